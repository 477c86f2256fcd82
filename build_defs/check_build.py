"""Checks the BUILD files against the tree: bin/bazel_test runs it first.

  build_defs/check_build.py [--bazel=bazel]

Fails, naming the file or target and the fix, when:
- `bazel query 'deps(//...)'` fails (a load error, a missing label);
- a .py file of the workspace is in the srcs of no py_library, py_binary or
  py_test, or of more than one; or a target lists a .py file that is missing;
- the deps of the Python targets have a cycle;
- a target's deps differ from what its sources import: every workspace module
  and PyPI package (//third_party:<name as imported>) they import, and
  nothing else; a test also depends on the conftest.py files pytest loads
  for it;
- pyproject.toml does not list a //third_party package's distribution.
For a file in no target it prints the rule to add, with its deps.
"""

import argparse
import ast
import os
from pathlib import Path
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
PY_RULES = ('py_library', 'py_binary', 'py_test')
# The deps a macro of build_defs/python.bzl adds for its generated main.
MACRO_DEPS = {'pytest_test': '//build_defs:run_pytest',
              'py_program': '//build_defs:run_program'}
THIRD_PARTY = '//third_party:'


def label_path(label):
  """'//a/b:c.py' -> 'a/b/c.py'."""
  package, name = label[2:].split(':')
  return f'{package}/{name}' if package else name


def path_label(path):
  """'a/b/c.py' -> '//a/b:c.py' (path in the package of its directory)."""
  package, _, name = path.rpartition('/')
  return f'//{package}:{name}'


def ignored_dirs(root):
  """Top-level directories `//...` leaves out (.bazelignore)."""
  ignore = root / '.bazelignore'
  lines = ignore.read_text().splitlines() if ignore.exists() else []
  return {line.strip().rstrip('/') for line in lines
          if line.strip() and not line.startswith('#')}


def python_files(root):
  """Workspace-relative paths of the .py files Bazel's //... can see."""
  ignored = ignored_dirs(root)
  found = []
  for directory, subdirs, files in os.walk(root):
    rel = os.path.relpath(directory, root)
    rel = '' if rel == '.' else rel + '/'
    subdirs[:] = sorted(
        d for d in subdirs
        if not (d.startswith(('.', 'bazel-')) or d == '__pycache__'
                or rel + d in ignored))
    found += [rel + f for f in sorted(files) if f.endswith('.py')]
  return found


def module_names(path, has_init):
  """Names `path` is imported by: its dotted path from the workspace, and
  its bare name when its directory is not a package (bin/, examples/: a
  script or test that puts the directory on sys.path imports it so)."""
  parts = path[:-len('.py')].split('/')
  if parts[-1] == '__init__':
    parts = parts[:-1]
  names = ['.'.join(parts)]
  directory = os.path.dirname(path)
  if (directory and not has_init(directory)
      and parts[-1] not in sys.stdlib_module_names):
    names.append(parts[-1])
  return names


def imports(path, source, is_module):
  """(line, dotted name) of each module `source` imports, at any depth.

  `from a import b` imports module a.b if that is a module, else a.
  """
  tree = ast.parse(source, path)
  package = path[:-len('.py')].replace('/', '.')
  if not path.endswith('__init__.py'):
    package = package.rpartition('.')[0]
  else:
    package = package[:-len('.__init__')]
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for alias in node.names:
        yield node.lineno, alias.name
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ''
      if node.level:
        parent = package.split('.')
        parent = parent[:len(parent) - node.level + 1]
        base = '.'.join(parent + ([base] if base else []))
      if base == '__future__':
        continue
      for alias in node.names:
        name = f'{base}.{alias.name}' if base else alias.name
        yield node.lineno, name if is_module(name) else base


class Rule:
  """A rule of `bazel query --output=xml`, with the attributes used here."""

  def __init__(self, element):
    self.kind = element.get('class')
    self.label = element.get('name')
    self.lists = {}
    self.strings = {}
    for child in element:
      if child.tag == 'list':
        self.lists[child.get('name')] = [
            item.get('value') for item in child]
      elif child.tag == 'string':
        self.strings[child.get('name')] = child.get('value')
    self.outputs = [o.get('name') for o in element.findall('rule-output')]


def query_rules(bazel, root):
  """Every rule of //..., after checking `bazel query 'deps(//...)'`."""
  def query(*args):
    result = subprocess.run([bazel, 'query', *args], cwd=root,
                            capture_output=True, text=True)
    if result.returncode:
      sys.exit(f'{result.stderr[-4000:]}\ncheck_build: bazel query '
               f'{" ".join(args)} failed (above)')
    return result.stdout
  targets = query('deps(//...)').split()
  print(f"check_build: bazel query 'deps(//...)': {len(targets)} targets")
  return [Rule(e) for e in ET.fromstring(query('//...', '--output=xml'))
          if e.tag == 'rule']


def proposed_target(path, source):
  """(kind, label) of the target a file without one would get."""
  directory, _, base = path.rpartition('/')
  name = os.path.basename(directory) if base == '__init__.py' else base[:-3]
  if base.startswith('test_') and directory.split('/')[0] == 'tests':
    kind = 'pytest_test'
  elif "if __name__ == '__main__'" in source or (
      'if __name__ == "__main__"' in source):
    kind = 'py_program'
  else:
    kind = 'py_library'
  return kind, f'//{directory}:{name}'


def rule_text(kind, label, path, deps):
  """The rule to paste into the BUILD file of `path`'s directory."""
  package, name = label[2:].split(':')
  def short(dep):
    dep_package, dep_name = dep[2:].split(':')
    if dep_package == package:
      return ':' + dep_name
    if dep_package.rpartition('/')[2] == dep_name:
      return '//' + dep_package
    return dep
  lines = [f'{kind}(', f'    name = "{name}",']
  if kind == 'py_library' or os.path.basename(path) == '__init__.py':
    lines.append(f'    srcs = ["{os.path.basename(path)}"],')
  if kind == 'pytest_test':
    lines.append('    size = "small",')
  if deps:
    deps = sorted(map(short, deps), key=lambda d: (d[0] != ':', d))
    lines += ['    deps = ['] + [f'        "{d}",' for d in deps] + ['    ],']
  return '\n'.join(lines + [')'])


def check(rules, root):
  """The problems found, each a line naming a file or a target."""
  problems = []
  generated = {out for rule in rules for out in rule.outputs}
  py_rules = [r for r in rules if r.kind in PY_RULES]
  labels = {r.label for r in rules}

  # Every .py file in the srcs of exactly one target; no missing sources.
  owners = {}
  missing = set()  # rules listing a file that does not exist
  for rule in py_rules:
    for src in rule.lists.get('srcs', []):
      if src in generated:
        continue
      path = label_path(src)
      if not (root / path).is_file():
        problems.append(f'{rule.label}: lists {path}, which does not exist: '
                        'remove it from srcs (or the target)')
        missing.add(rule.label)
      owners.setdefault(path, []).append(rule)
  files = python_files(root)
  proposed = {}  # path of a file in no target -> (kind, label)
  for path in files:
    rules_of = owners.get(path, [])
    if not rules_of:
      proposed[path] = proposed_target(path, (root / path).read_text())
    elif len(rules_of) > 1:
      problems.append(f'{path}: in the srcs of {len(rules_of)} targets '
                      f'({", ".join(r.label for r in rules_of)}): keep one')

  # Module name -> target: the one listing the file, or the one proposed.
  def has_init(directory):
    return (root / directory / '__init__.py').is_file()
  module_target = {}
  for path in files:
    rules_of = owners.get(path, [])
    label = (rules_of[0].label if len(rules_of) == 1
             else proposed[path][1] if path in proposed else None)
    if label:
      for name in module_names(path, has_init):
        module_target.setdefault(name, label)
  module_file = {name: path for path in files
                 for name in module_names(path, has_init)}
  first_party = {p.split('/')[0] for p in files if '/' in p}

  def target_of(name):
    """The target providing module `name`; None for the standard library."""
    parts = name.split('.')
    for i in range(len(parts), 0, -1):
      prefix = '.'.join(parts[:i])
      if prefix in module_target:
        return module_target[prefix], None
      if prefix in module_file:
        return None, f'{module_file[prefix]} is in several targets (above)'
    top = parts[0]
    if top in first_party:
      return None, f'no file of the workspace is module {name}'
    if top in sys.stdlib_module_names:
      return None, None
    if THIRD_PARTY + top in labels:
      return THIRD_PARTY + top, None
    return None, (f'{top} is neither in the workspace nor in third_party/BUILD:'
                  f' add pypi_package(name = "{top}", distribution = ...) '
                  'there and the distribution to pyproject.toml')

  def needed_deps(paths, label, is_test):
    """{target: (path, line, module) first needing it} for files `paths`."""
    needed = {}
    for path in paths:
      source = (root / path).read_text()
      seen = set()
      for line, name in imports(path, source, lambda n: n in module_file):
        target, problem = target_of(name)
        if problem and name not in seen:
          problems.append(f'{path}:{line}: imports {name}: {problem}')
        elif target and target != label:
          needed.setdefault(target, (path, line, name))
        seen.add(name)
      directory = os.path.dirname(path)
      while is_test and directory:
        conftest = target_of(directory.replace('/', '.') + '.conftest')[0]
        if (root / directory / 'conftest.py').is_file() and conftest:
          needed.setdefault(conftest, (path, 0, 'conftest (pytest loads it)'))
        directory = os.path.dirname(directory)
    return needed

  for path, (kind, label) in sorted(proposed.items()):
    deps = needed_deps([path], label, kind == 'pytest_test')
    problems.append(f'{path}: in no target: add to '
                    f'{os.path.dirname(path) or "."}/BUILD\n'
                    + rule_text(kind, label, path, deps))

  # deps == what the sources import (+ conftest.py files for tests).
  for rule in py_rules:
    if rule.label.startswith(THIRD_PARTY):
      continue
    paths = [label_path(src) for src in rule.lists.get('srcs', [])
             if src not in generated and (root / label_path(src)).is_file()]
    needed = needed_deps(paths, rule.label, rule.kind == 'py_test')
    deps = set(rule.lists.get('deps', []))
    for target, (path, line, name) in sorted(needed.items()):
      if target not in deps:
        where = f'{path}:{line}' if line else path
        problems.append(f'{where}: imports {name}: add "{target}" to the '
                        f'deps of {rule.label}')
    if rule.label in missing:
      continue  # its deps are checked once its srcs are right
    macro = rule.strings.get('generator_function')
    if macro == 'py_module_program':
      continue  # its one source is generated: `python -m` of its dep
    macro_dep = MACRO_DEPS.get(macro)
    for dep in sorted(deps - set(needed) - {macro_dep}):
      problems.append(f'{rule.label}: nothing in its srcs imports {dep}: '
                      'remove it from deps (a file it only reads or runs '
                      'belongs in data)')

  # No cycle (`bazel query` allows them; `bazel build` stops at the first).
  graph = {r.label: [d for d in r.lists.get('deps', []) if d in labels]
           for r in py_rules}
  done, path = set(), []
  def visit(label):
    if label in path:
      cycle = path[path.index(label):] + [label]
      problems.append('dependency cycle: ' + ' -> '.join(cycle))
      return
    if label in done:
      return
    path.append(label)
    for dep in graph.get(label, []):
      visit(dep)
    path.pop()
    done.add(label)
  for label in sorted(graph):
    visit(label)

  # pyproject.toml names every //third_party package.
  project = tomllib.loads((root / 'pyproject.toml').read_text())['project']
  listed = project.get('dependencies', []) + [
      d for extra in project.get('optional-dependencies', {}).values()
      for d in extra]
  def normal(name):
    return re.sub(r'[-_.]+', '-', name).lower()
  distributions = {normal(re.split(r'[\s<>=!~;\[]', d, 1)[0]) for d in listed}
  for rule in py_rules:
    for tag in rule.lists.get('tags', []):
      if tag.startswith('pypi=') and normal(tag[5:]) not in distributions:
        problems.append(f'{rule.label}: distribution {tag[5:]} is not in '
                        'pyproject.toml: add it there')
  return sorted(set(problems)), len(files), len(py_rules)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--bazel', default='bazel')
  args = parser.parse_args()
  rules = query_rules(args.bazel, ROOT)
  problems, num_files, num_rules = check(rules, ROOT)
  for problem in problems:
    print(problem)
  if problems:
    sys.exit(f'check_build: {len(problems)} problems (above)')
  print(f'check_build: OK: each of the {num_files} .py files is in one of '
        f'{num_rules} Python targets, whose deps match their imports')


if __name__ == '__main__':
  main()
