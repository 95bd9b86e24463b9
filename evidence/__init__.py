"""What an uploaded file is and what can safely be made of it.

No Flask and no database models here: this package works on bytes and files so that it
can be fuzzed, benchmarked and used by the CLI and workers alone.
"""
