"""The public names of `tfp_realnvp`, their docstrings, and docs/api.md.

The public API is the root package's names and, for each public subpackage
or module of the root (not `programs`: the console scripts), its `__all__`,
or, for a package without one, the names its `__init__` imports. A name is
listed once, in the first section that holds its object.
"""

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap
import types

__all__ = ['ROOT_PACKAGE', 'API_DOCS', 'REGENERATE', 'Entry', 'sections',
           'entries', 'is_constant', 'summary', 'examples', 'render']

ROOT_PACKAGE = 'tfp_realnvp'
API_DOCS = 'docs/api.md'  # relative to the checkout
REGENERATE = 'bin/api_docs'
# Packages of programs rather than of the library.
_NOT_API = ('programs',)
_EXAMPLE = re.compile(r'^```python\n(.*?)^```', re.M | re.S)
# Object reprs in default values (`<function f at 0x7f...>`) vary by run.
_ADDRESS = re.compile(r' at 0x[0-9a-f]+')


class Entry(types.SimpleNamespace):
  """One public name: `module` (the section), `name`, `obj`, `doc`."""


def sections():
  """The modules whose names are the public API: the root first."""
  root = importlib.import_module(ROOT_PACKAGE)
  found = [root]
  for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
    if info.name.startswith('_') or info.name in _NOT_API:
      continue
    found.append(importlib.import_module(f'{ROOT_PACKAGE}.{info.name}'))
  return found


def _names(module):
  """The public names of `module`: `__all__`, else what it imports."""
  if hasattr(module, '__all__'):
    return list(module.__all__)
  return [n for n, v in vars(module).items()
          if not n.startswith('_') and not isinstance(v, types.ModuleType)]


def _constant_doc(obj_module, name):
  """The comment above `name = ...` in `obj_module`'s source, one line.

  A constant has no docstring of its own; its comment stands for one.
  """
  source = inspect.getsource(obj_module)
  lines = source.splitlines()
  for node in ast.parse(source).body:
    targets = (node.targets if isinstance(node, ast.Assign) else
               [node.target] if isinstance(node, ast.AnnAssign) else [])
    if any(isinstance(t, ast.Name) and t.id == name for t in targets):
      comment = []
      row = node.lineno - 2
      while row >= 0 and lines[row].startswith('#'):
        comment.insert(0, lines[row].lstrip('#').strip())
        row -= 1
      inline = lines[node.lineno - 1].partition('  # ')[2]
      return ' '.join(comment) or inline.strip()
  return ''


def is_constant(obj):
  """Whether `obj` is a value (a tuple, a dict, ...): no docstring of its own."""
  return not (inspect.isclass(obj) or callable(obj)
              or isinstance(obj, types.ModuleType))


def entries():
  """Every public name, as `Entry`s in section order, each listed once."""
  seen = set()
  found = []
  for module in sections():
    for name in _names(module):
      obj = getattr(module, name)
      if isinstance(obj, types.ModuleType) or id(obj) in seen:
        continue
      seen.add(id(obj))
      if is_constant(obj):
        defining = _defining_module(module, name)
        doc = _constant_doc(defining, name)
      else:
        doc = inspect.cleandoc(obj.__doc__ or '')
      found.append(Entry(module=module.__name__, name=name, obj=obj, doc=doc))
  return found


def _defining_module(module, name):
  """The module whose source assigns `name` (a package re-exports it)."""
  if not hasattr(module, '__path__'):
    return module
  for info in pkgutil.iter_modules(module.__path__):
    sub = importlib.import_module(f'{module.__name__}.{info.name}')
    if getattr(sub, name, None) is getattr(module, name) and re.search(
        rf'^{name}\b.*=', inspect.getsource(sub), re.M):
      return sub
  raise LookupError(f'{module.__name__}.{name}: no module assigns it')


def summary(entry):
  """The docstring's summary line; None if it does not have TFP's shape.

  TFP's shape: one line ending in a period, then a blank line (or nothing).
  """
  lines = entry.doc.splitlines()
  if not lines or not lines[0].strip().endswith('.'):
    return None
  if is_constant(entry.obj):
    return entry.doc  # a comment: one line in the docs
  if len(lines) > 1 and lines[1].strip():
    return None
  return lines[0].strip()


def examples(entry):
  """The ```python blocks of the docstring, each a program that runs."""
  return [textwrap.dedent(block) for block in _EXAMPLE.findall(entry.doc)]


def _signature(entry):
  obj = entry.obj
  if is_constant(obj):
    return f'{entry.name} = {_ADDRESS.sub("", _short_repr(obj))}'
  try:
    signature = str(inspect.signature(obj))
  except (TypeError, ValueError):  # a builtin without one
    signature = '(...)'
  if inspect.isclass(obj):  # its __init__'s: no return value to show
    return f'class {entry.name}{_ADDRESS.sub("", signature)}'.removesuffix(
        ' -> None')
  return f'{entry.name}{_ADDRESS.sub("", signature)}'


def _short_repr(value, limit=80):
  if isinstance(value, (set, frozenset)):  # in an order that does not vary
    value = sorted(value)
  text = repr(value)
  if len(text) <= limit:
    return text
  if isinstance(value, dict):
    return '{' + ', '.join(repr(k) for k in value) + '}  # keys'
  return text[:limit] + ' ...'


def render():
  """docs/api.md's text."""
  out = ['# API reference', '',
         f'The public names of `{ROOT_PACKAGE}`, each with its signature and '
         'the first line of its docstring (the docstrings hold the math and '
         'an example that runs).',
         f'Generated from the docstrings; `tests/test_api_docs.py` checks that '
         'this page is current. After a change of a public name or its '
         'docstring, write it again:', '', '```sh', REGENERATE, '```']
  section = None
  for entry in entries():
    if entry.module != section:
      section = entry.module
      module_doc = (inspect.cleandoc(
          importlib.import_module(section).__doc__ or '').splitlines()
                    or [''])[0]
      out += ['', f'## `{section}`', '', module_doc, '']
    # A backslash ends a line within the item (CommonMark's hard break).
    out.append(f'- `{_signature(entry)}`\\')
    out.append(f'  {summary(entry) or "(no summary line)"}')
  return '\n'.join(out) + '\n'
