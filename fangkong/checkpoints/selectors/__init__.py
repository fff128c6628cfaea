"""The shared reads of the standing systems, scoped by the user: one module per area, as in
``services``."""
