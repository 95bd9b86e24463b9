"""``python -m evidence.sandbox``: the child's command line (evidence.sandbox.main)."""

from evidence.sandbox import main

if __name__ == "__main__":
    main()
