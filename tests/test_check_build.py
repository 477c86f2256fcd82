"""build_defs/check_build.py names each file or target that breaks a rule."""

import textwrap
import xml.etree.ElementTree as ET

import pytest

from build_defs import check_build


def rule(kind, label, srcs=(), deps=(), tags=(), generator=None, outs=()):
  """A rule as `bazel query --output=xml` prints it."""
  def items(name, values, tag='label'):
    return (f'<list name="{name}">'
            + ''.join(f'<{tag} value="{v}"/>' for v in values) + '</list>')
  xml = (f'<rule class="{kind}" name="{label}">'
         + items('srcs', srcs) + items('deps', deps)
         + items('tags', tags, 'string')
         + (f'<string name="generator_function" value="{generator}"/>'
            if generator else '')
         + ''.join(f'<rule-output name="{o}"/>' for o in outs) + '</rule>')
  return check_build.Rule(ET.fromstring(xml))


@pytest.fixture
def tree(tmp_path):
  """pkg/{__init__,a,b}.py and tests/test_a.py, with pyproject.toml."""
  files = {
      'pkg/__init__.py': 'from pkg.a import f\n',
      'pkg/a.py': 'import os\nimport numpy as np\nfrom pkg import b\n',
      'pkg/b.py': 'import os\n',
      'tests/conftest.py': '',
      'tests/test_a.py': 'import pytest\nfrom pkg import a\n',
      'pyproject.toml': textwrap.dedent('''\
          [project]
          dependencies = ["numpy>=1"]
          [project.optional-dependencies]
          test = ["pytest>=8"]
          '''),
  }
  for path, text in files.items():
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(text)
  return tmp_path


def good_rules():
  return [
      rule('py_library', '//pkg:pkg', ['//pkg:__init__.py'], ['//pkg:a']),
      rule('py_library', '//pkg:a', ['//pkg:a.py'],
           ['//pkg:b', '//third_party:numpy']),
      rule('py_library', '//pkg:b', ['//pkg:b.py']),
      rule('py_library', '//tests:conftest', ['//tests:conftest.py']),
      rule('py_test', '//tests:test_a',
           ['//tests:test_a.py', '//tests:test_a_main.py'],
           ['//pkg:a', '//tests:conftest', '//third_party:pytest',
            '//build_defs:run_pytest'], generator='pytest_test'),
      rule('genrule', '//tests:test_a_main', outs=['//tests:test_a_main.py']),
      rule('py_library', '//third_party:numpy', tags=['pypi=numpy']),
      rule('py_library', '//third_party:pytest', tags=['pypi=pytest']),
  ]


def problems(rules, root):
  return check_build.check(rules, root)[0]


def test_a_consistent_tree_passes(tree):
  assert problems(good_rules(), tree) == []


def test_names_a_cycle(tree):
  (tree / 'pkg' / 'b.py').write_text('from . import a\n')  # relative import
  rules = good_rules()
  rules[2] = rule('py_library', '//pkg:b', ['//pkg:b.py'], ['//pkg:a'])
  assert problems(rules, tree) == [
      'dependency cycle: //pkg:a -> //pkg:b -> //pkg:a']


def test_names_a_file_without_a_target_and_a_missing_file(tree):
  (tree / 'pkg' / 'c.py').write_text('import numpy\nfrom pkg import a\n')
  (tree / 'pkg' / 'b.py').write_text('from pkg import c\n')
  rules = good_rules()
  rules[2] = rule('py_library', '//pkg:b', ['//pkg:b.py', '//pkg:gone.py'])
  assert problems(rules, tree) == [
      '//pkg:b: lists pkg/gone.py, which does not exist: remove it from srcs '
      '(or the target)',
      'pkg/b.py:1: imports pkg.c: add "//pkg:c" to the deps of //pkg:b',
      'pkg/c.py: in no target: add to pkg/BUILD\n'
      'py_library(\n'
      '    name = "c",\n'
      '    srcs = ["c.py"],\n'
      '    deps = [\n'
      '        ":a",\n'
      '        "//third_party:numpy",\n'
      '    ],\n'
      ')']


def test_proposes_a_test_or_a_program_for_a_file_without_a_target(tree):
  (tree / 'tests' / 'test_b.py').write_text('from pkg import b\n')
  (tree / 'pkg' / 'run.py').write_text("if __name__ == '__main__':\n  pass\n")
  found = problems(good_rules(), tree)
  assert found == [
      'pkg/run.py: in no target: add to pkg/BUILD\n'
      'py_program(\n'
      '    name = "run",\n'
      ')',
      'tests/test_b.py: in no target: add to tests/BUILD\n'
      'pytest_test(\n'
      '    name = "test_b",\n'
      '    size = "small",\n'
      '    deps = [\n'
      '        ":conftest",\n'
      '        "//pkg:b",\n'
      '    ],\n'
      ')']


def test_names_a_file_in_two_targets(tree):
  rules = good_rules() + [rule('py_library', '//pkg:a2', ['//pkg:a.py'],
                               ['//pkg:b', '//third_party:numpy'])]
  assert ('pkg/a.py: in the srcs of 2 targets (//pkg:a, //pkg:a2): keep one'
          in problems(rules, tree))


def test_names_missing_and_unneeded_deps(tree):
  rules = good_rules()
  rules[4] = rule('py_test', '//tests:test_a', ['//tests:test_a.py'],
                  ['//pkg:b', '//third_party:pytest'])
  found = problems(rules, tree)
  assert ('tests/test_a.py:2: imports pkg.a: add "//pkg:a" to the deps of '
          '//tests:test_a') in found
  assert ('tests/test_a.py: imports conftest (pytest loads it): add '
          '"//tests:conftest" to the deps of //tests:test_a') in found
  assert ('//tests:test_a: nothing in its srcs imports //pkg:b: remove it '
          'from deps (a file it only reads or runs belongs in data)') in found


def test_names_an_unknown_package_and_one_pyproject_lacks(tree):
  (tree / 'pkg' / 'a.py').write_text('import scipy\nimport numpy\n'
                                     'from pkg import b\n')
  rules = good_rules()
  rules[6] = rule('py_library', '//third_party:numpy', tags=['pypi=numpy2'])
  found = problems(rules, tree)
  assert any(p.startswith('pkg/a.py:1: imports scipy: scipy is neither in '
                          'the workspace nor in third_party/BUILD')
             for p in found)
  assert ('//third_party:numpy: distribution numpy2 is not in '
          'pyproject.toml: add it there') in found


def test_from_import_of_a_name_needs_the_package_target(tree):
  assert list(check_build.imports(
      'tests/test_x.py', 'from pkg import f, a\nfrom pkg.a import g\n',
      {'pkg', 'pkg.a'}.__contains__)) == [
          (1, 'pkg'), (1, 'pkg.a'), (2, 'pkg.a')]
