"""Paths and files on any TensorFlow filesystem: local, gs://, ram://, ...

Every file the project reads or writes goes through `tf.io.gfile`, and a
path is a string: `pathlib.Path('gs://bucket/run')` is the local
`gs:/bucket/run`. `ram://` (in memory, one process) stands in for remote
schemes in the tests.
"""

import os
import posixpath
import re
import uuid

import tensorflow as tf

__all__ = ['scheme', 'join', 'as_str', 'check_filesystem', 'check_local',
           'check_writable', 'write_atomic', 'read_bytes', 'publish_dir', 'remove']

_SCHEME = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*)://')


def scheme(path):
  """'gs' of 'gs://bucket/run'; None for a local path.

  #### Example

  ```python
  from tfp_realnvp import storage

  assert storage.scheme('gs://bucket/run') == 'gs'
  assert storage.scheme('runs/mnist') is None
  ```
  """
  match = _SCHEME.match(os.fspath(path)) if path is not None else None
  return match[1] if match else None


def as_str(path):
  """`path` as a string (os.PathLike included); None stays None.

  A local `~/...` is expanded (a shell leaves `--flag=~/...` as it is). A
  `pathlib.Path` of a `scheme://` string has lost a slash ('gs:/bucket');
  that raises ValueError rather than write to a local folder 'gs:'.

  #### Example

  ```python
  import os
  import pathlib
  from tfp_realnvp import storage

  assert storage.as_str(pathlib.Path('runs') / 'mnist') == 'runs/mnist'
  assert storage.as_str('~/runs') == os.path.expanduser('~/runs')
  assert storage.as_str(None) is None
  ```
  """
  if path is None:
    return None
  text = os.fspath(path)
  if not isinstance(path, str) and re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:/[^/]',
                                            text):
    raise ValueError(f'{text!r} looks like a {text.split(":")[0]}:// URL '
                     'turned into a local path; pass the string')
  return text if scheme(text) else os.path.expanduser(text)


def join(path, *parts):
  """`path/part/...`; a `scheme://` path keeps its '//'.

  #### Example

  ```python
  from tfp_realnvp import storage

  assert storage.join('gs://bucket', 'runs', 'mnist') == 'gs://bucket/runs/mnist'
  ```
  """
  path = as_str(path)
  if scheme(path):
    return posixpath.join(path, *parts)
  return os.path.join(path, *parts)


def check_filesystem(path, what='path'):
  """`path` as a string, if TensorFlow has a filesystem for it that answers.

  ValueError if it has none (a plugin may be missing for its scheme:
  tensorflow-io for s3://, hdfs://, ...); OSError naming `what`, the path
  and the filesystem's reason if that cannot be reached or refuses the path
  (no network, no credentials, ...), rather than TensorFlow's raw error (a
  libcurl code, naming neither).

  #### Example

  ```python
  from tfp_realnvp import storage

  assert storage.check_filesystem('ram://bucket/run') == 'ram://bucket/run'
  try:
    storage.check_filesystem('nosuch://bucket/run', '--model_dir')
  except ValueError as e:
    assert '--model_dir' in str(e)
  ```
  """
  path = as_str(path)
  name = scheme(path)
  if name:
    try:
      tf.io.gfile.exists(path)
    except tf.errors.UnimplementedError as e:
      raise ValueError(
          f'{what} {path}: TensorFlow has no filesystem for the scheme '
          f'{name}:// (gs:// and ram:// are built in; others need a plugin '
          'such as tensorflow-io, imported before use)') from e
    except tf.errors.OpError as e:
      reason = ' '.join(e.message.split())  # One line.
      raise OSError(f'{what} {path} cannot be reached or used: {reason}'
                    ) from e
  return path


def check_local(path, what, library):
  """`path` as a string; ValueError naming `library` if it is a URL.

  #### Example

  ```python
  from tfp_realnvp import storage

  assert storage.check_local('data', 'folder', 'PIL') == 'data'
  try:
    storage.check_local('gs://bucket/data', '--data_dir', 'lmdb')
  except ValueError as e:
    assert 'lmdb' in str(e)
  ```
  """
  path = as_str(path)
  name = scheme(path)
  if name:
    raise ValueError(f'{what} {path}: {library} cannot read {name}:// paths; '
                     'copy the data to a local path first')
  return path


def _parent(path):
  """The directory holding `path`; None above the top (the root, the working
  directory, or a URL's `scheme://`)."""
  parent = (posixpath if scheme(path) else os.path).dirname(path)
  if not parent or parent == path or scheme(parent) != scheme(path):
    return None
  return parent


def check_writable(path, what, directory=False):
  """`path` as a string, if a file (`directory`: a directory) can go there.

  Checks and creates nothing: `path` must not be a directory (`directory`:
  a file), and its nearest existing ancestor must be a directory (locally, a
  writable one), so that the missing parents can be made.

  Args:
    path: a path on any TensorFlow filesystem.
    what: what `path` is, for the messages (a flag's or argument's name).
    directory: `path` is to be a directory rather than a file.

  Returns:
    `path` as a string.

  Raises:
    IsADirectoryError, NotADirectoryError, PermissionError: naming `what`
      and the path.
    ValueError: an empty path, or no filesystem for the path's scheme.

  #### Example

  ```python
  import tempfile
  from tfp_realnvp import storage

  with tempfile.TemporaryDirectory() as tmp:
    storage.check_writable(f'{tmp}/new/model.png', '--out')
    try:
      storage.check_writable(tmp, '--out')  # a directory, not a file
    except IsADirectoryError as e:
      assert '--out' in str(e)
  ```
  """
  path = check_filesystem(path, what)
  if not path:
    raise ValueError(f'{what} is empty; expected a path')
  if tf.io.gfile.isdir(path):
    if not directory:
      raise IsADirectoryError(f'{what} {path} is a directory; expected a '
                              'file path')
    return path
  if directory and tf.io.gfile.exists(path):
    raise NotADirectoryError(f'{what} {path} is a file; expected a directory')
  parent = _parent(path)
  while parent and not tf.io.gfile.exists(parent):
    parent = _parent(parent)
  if parent and not tf.io.gfile.isdir(parent):
    raise NotADirectoryError(f'{what} {path}: {parent} is a file, so no '
                             'directory can be made there')
  if not scheme(path) and not os.access(parent or os.curdir, os.W_OK):
    raise PermissionError(f'{what} {path}: {parent or os.getcwd()} is not '
                          'writable')
  return path


def read_bytes(path):
  """The content of the file `path`, on any TensorFlow filesystem.

  #### Example

  ```python
  from tfp_realnvp import storage

  storage.write_atomic('ram://docs/a.txt', 'text')
  assert storage.read_bytes('ram://docs/a.txt') == b'text'
  ```
  """
  with tf.io.gfile.GFile(path, 'rb') as f:
    return f.read()


def write_atomic(path, content):
  """Writes `content` (bytes or str) to `path`: no reader sees half a file.

  Written to a temporary name beside it, then renamed over `path` (on object
  stores the copy appears whole, as every object does).

  #### Example

  ```python
  from tfp_realnvp import storage

  storage.write_atomic('ram://docs/config.json', '{}')
  assert storage.read_bytes('ram://docs/config.json') == b'{}'
  ```
  """
  path = as_str(path)
  tmp = f'{path}.tmp-{uuid.uuid4().hex}'
  try:
    with tf.io.gfile.GFile(tmp, 'wb') as f:
      f.write(content.encode() if isinstance(content, str) else content)
    tf.io.gfile.rename(tmp, path, overwrite=True)
  finally:
    remove(tmp)
  return path


def remove(path):
  """Deletes the file or directory tree `path`, if there is one.

  #### Example

  ```python
  from tfp_realnvp import storage

  storage.write_atomic('ram://docs/run/a.txt', 'text')
  storage.remove('ram://docs/run')
  storage.remove('ram://docs/run')  # nothing there: nothing to do
  ```
  """
  if not tf.io.gfile.exists(path):
    return
  if not tf.io.gfile.isdir(path):
    tf.io.gfile.remove(path)
    return
  try:
    tf.io.gfile.rmtree(path)
  except tf.errors.NotFoundError:
    # ram:// lists a directory that only its files imply, but cannot
    # delete it: the files go, and the directory with them.
    for root, _, names in list(tf.io.gfile.walk(path)):
      for name in names:
        tf.io.gfile.remove(join(root, name))


def publish_dir(src, dst, last):
  """Moves the directory `src` to `dst`, the file `src/last` arriving last.

  Locally one atomic rename. On other filesystems a directory rename copies
  file by file (object stores have no directories), so `dst` may show up
  partial: the files are copied with `last` at the end, and readers wait for
  `dst/last` (a SavedModel cannot load without its saved_model.pb).

  #### Example

  ```python
  import os
  import tempfile
  from tfp_realnvp import storage

  with tempfile.TemporaryDirectory() as tmp:
    os.mkdir(f'{tmp}/staging')
    storage.write_atomic(f'{tmp}/staging/saved_model.pb', b'...')
    storage.publish_dir(f'{tmp}/staging', f'{tmp}/1', 'saved_model.pb')
    assert os.listdir(f'{tmp}/1') == ['saved_model.pb']
  ```
  """
  if not scheme(src) and not scheme(dst):
    tf.io.gfile.rename(src, dst)
    return dst
  files = []
  for root, _, names in tf.io.gfile.walk(src):
    files += [posixpath.join(root, name) for name in names]
  marker = join(src, last)
  if marker not in files:
    raise FileNotFoundError(f'{marker} was not written')
  files.remove(marker)
  for path in [*sorted(files), marker]:
    target = dst + path[len(src):]
    tf.io.gfile.makedirs(posixpath.dirname(target))
    tf.io.gfile.copy(path, target, overwrite=True)
  tf.io.gfile.rmtree(src)
  return dst
