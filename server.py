"""Start the browser practice server: ``python server.py [--host H] [--port P] [--token T]``."""

import sys

from voice_interviewer.commands.serve import main

if __name__ == "__main__":
    sys.exit(main())
