"""Every write of the standing systems, one module per area: ``entries`` (checkpoints and the
entry log), ``duty`` (the roster and the pioneer posts), ``records`` (disinfection and
publicity)."""
