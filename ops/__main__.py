import atexit
import gc

from ops.cli import app

# Python's shutdown tears down every module with the collector on, and each pass walks all that is
# left (after a render, some 400,000 objects, a second): frozen at exit, they are not walked.
atexit.register(gc.freeze)
app()
