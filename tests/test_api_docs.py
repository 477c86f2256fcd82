"""docs/api.md is current, and the public names' docstrings have TFP's
shape: a one-line summary, and an example (```python block) that runs."""

import ast
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bin'))

import api_docs_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# Docstrings not in TFP's shape yet. Each is an expected failure, strict:
# take a name out once its docstring passes.
WITHOUT_SUMMARY = set()
WITHOUT_EXAMPLE = set()


def _params(pending, entries):
  """A pytest.param per entry, an expected failure if its name is pending."""
  return [pytest.param(e, id=_id(e), marks=[pytest.mark.xfail(
      strict=True, reason='pending: take it out of the list once it passes')]
                       if _id(e) in pending else []) for e in entries]


def _id(entry):
  return f'{entry.module}.{entry.name}'


ENTRIES = api_docs_lib.entries()
DOCUMENTED = [e for e in ENTRIES if not api_docs_lib.is_constant(e.obj)]
EXAMPLES = [(e, block) for e in ENTRIES for block in api_docs_lib.examples(e)]


def test_api_docs_are_current():
  with open(os.path.join(ROOT, api_docs_lib.API_DOCS)) as f:
    written = f.read()
  assert written == api_docs_lib.render(), (
      f'{api_docs_lib.API_DOCS} is not current: run '
      f'{api_docs_lib.REGENERATE}')


def test_the_root_packages_all_is_what_it_imports():
  """`tfp_realnvp.__all__`, the root's section, misses no name it offers."""
  root = api_docs_lib.sections()[0]
  with open(root.__file__) as f:
    tree = ast.parse(f.read())
  imported = {alias.asname or alias.name for node in tree.body
              if isinstance(node, ast.ImportFrom) for alias in node.names}
  assert sorted(root.__all__) == sorted(
      n for n in imported if not n.startswith('_'))


@pytest.mark.parametrize('entry', _params(WITHOUT_SUMMARY, ENTRIES))
def test_each_public_name_has_a_one_line_summary(entry):
  assert api_docs_lib.summary(entry), (
      f'{_id(entry)}: the docstring (a constant: the comment above it) must '
      f'open with one line ending in a period, then a blank line; got '
      f'{entry.doc[:200]!r}')


@pytest.mark.parametrize('entry', _params(WITHOUT_EXAMPLE, DOCUMENTED))
def test_each_documented_name_has_an_example(entry):
  """Constants have no docstring; the rest have TFP's `#### Example`."""
  assert api_docs_lib.examples(entry), (
      f'{_id(entry)}: its docstring needs an example that runs, a '
      '```python block (under "#### Example")')


@pytest.mark.parametrize('entry, block', EXAMPLES,
                         ids=[_id(e) for e, _ in EXAMPLES])
def test_docstring_examples_run(entry, block):
  code = compile(block, f'<example of {_id(entry)}>', 'exec')
  exec(code, {'__name__': '__example__'})  # pylint: disable=exec-used
