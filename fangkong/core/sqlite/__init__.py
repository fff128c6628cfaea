"""The SQLite database backend of fangkong: Django's, with writers queued by the kernel (see
:mod:`.base`)."""
