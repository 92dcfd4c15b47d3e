"""The command line and one module per command, apart from the layers they drive.

`cli` parses arguments and starts the command: `inspect`, `layout` and `export` read files
without Qt, `ingest` runs the real pipeline headless, and the window (`viewer.ui.app`) is
imported only when it is started. `desktop` (``--install-desktop``), `qt_platform` (can Qt
open a window here?) and `progress` (progress bars on a terminal) serve these commands only.
`viewer.handover` stays beside the layers: both the command line and the window speak it.
Nothing here is imported at start-up beyond what the chosen command needs.
"""
