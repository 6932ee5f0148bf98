"""Silicon Curtain's entry point: `python main.py --help`."""

import sys

if __name__ == "__main__":
    # Imported here, not above: every spawned worker process runs this file again (as
    # __mp_main__), and should reach its set-up (watching its parent) without the CLI's imports.
    try:
        from game.cli import main

        status = main()
    except KeyboardInterrupt:  # Ctrl-C before a command could handle it: nothing was done
        status = 130
    sys.exit(status)
