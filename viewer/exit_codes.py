"""One exit-code rule for every command (the window, ``inspect``, ``ingest``, ``layout``)."""

EXIT_OK = 0  # everything given was read
EXIT_UNREADABLE = 1  # something could not be read (a file, part of one, a port): the rest is still shown
EXIT_USAGE = 2  # the command line itself is wrong (a bad flag or value)

HELP = ("exit codes: 0 everything was read; 1 something could not be read (a missing, "
        "truncated or corrupt file, a busy port) and the rest is still shown; "
        "2 a usage error (a bad flag or value)")
