"""The programs' one way of failing: a line `error: ...` and exit status 1.

Every program's `run()` is `_cli.run(main)`. A bad flag value (absl's own
checks: types, enums, bounds, validators, required flags) and the library's
errors for bad input or an unusable path end the program with one line on
stderr, `error: <message>`, the message naming the flag or the path. Any
other exception is a bug and keeps its traceback.
"""

import sys

from absl import app
from absl import flags
import tensorflow as tf

__all__ = ['USER_ERRORS', 'run']

# What the library raises for bad input or an unusable path, or for a
# missing extra (ImportError naming the pip install). Of TensorFlow's errors,
# those of files (tf.io.gfile) and of invalid values; out of memory too,
# which a smaller batch fixes. The others (internal, unknown, ...) are bugs.
USER_ERRORS = (ValueError, OSError, ImportError,
               tf.errors.InvalidArgumentError,
               tf.errors.NotFoundError, tf.errors.AlreadyExistsError,
               tf.errors.PermissionDeniedError,
               tf.errors.FailedPreconditionError,
               tf.errors.ResourceExhaustedError)


def _fail(error):
  """Exits with status 1 after the line `error: <first line of error>`."""
  # TensorFlow's messages go on with op and graph details, line after line;
  # their first line says what is wrong.
  lines = str(error).strip().splitlines() or [type(error).__name__]
  print(f'error: {lines[0]}', file=sys.stderr, flush=True)
  sys.exit(1)


def _parse_flags(argv):
  """absl's parsing, with a flag error as one line instead of its FATAL
  block and usage hint."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    _fail(e)


def run(main, errors=()):
  """`app.run(main)`; `USER_ERRORS` and `errors` (more exception types the
  program expects) end it as `error: <message>`, exit status 1."""
  expected = USER_ERRORS + tuple(errors)

  def checked_main(argv):
    try:
      return main(argv)
    except expected as e:
      _fail(e)

  app.run(checked_main, flags_parser=_parse_flags)
