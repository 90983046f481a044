"""Pure, typed domain logic: no I/O, no Discord, no SQL."""
