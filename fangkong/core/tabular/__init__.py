"""Tables in and out of the app: one module every ledger (台账) uses.

- :mod:`.columns` describes a ledger's columns once (header, meaning, format, allowed values,
  example); the template, the import and the export all read that description.
- :mod:`.reading` reads ``.xlsx`` (python-calamine) and ``.csv`` (UTF-8 or GBK) into rows with
  their sheet and row numbers, within size and row limits.
- :mod:`.writing` streams ``.xlsx`` files (constant memory) with text cells safe from formula
  injection, and builds import templates with instructions and drop-downs.
"""
