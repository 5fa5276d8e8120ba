"""The operators' and approvers' CLI: `python starter.py --help`."""

from cli.main import main

if __name__ == "__main__":
    main()
