"""A clinic's set-up from a file (`uketsuke clinic`): opening hours, closed days, courses,
staff and their shifts, beds and media, described in TOML.

`spec` is the file's shape, `reading` turns a file's text into a `spec.Setup` naming every
problem by its place, `applying` writes a Setup to the database, `stranding` finds the
future bookings that leaves outside it, `current` reads a clinic's back, `writing` writes
one as TOML and `example` is the file `init` starts from.
"""
