"""The channel-neutral conversation engine: pure transition tables, no I/O, no clock."""
