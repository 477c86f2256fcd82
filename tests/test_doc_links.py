"""Every relative link of README.md and of the pages of docs/ resolves: to a
file or directory of the checkout and, with `#anchor`, to a heading of the
page it names (anchors as GitHub makes them from headings)."""

import os
from pathlib import Path
import re
import urllib.parse

import pytest

ROOT = Path(__file__).absolute().parents[1]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
FENCE = re.compile(r'^(```|~~~).*?^\1', re.M | re.S)
CODE = re.compile(r'(`+).*?\1', re.S)
# [text](target "title"), ![alt](target), [ref]: target, <a href=...>,
# <img src=...>.
LINK = re.compile(r'\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)'
                  r'|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)'
                  r'|<(?:a|img)\b[^>]*?\b(?:href|src)="([^"]+)"', re.M)
HEADING = re.compile(r'^#{1,6}\s+(.*?)\s*#*\s*$', re.M)


def prose(markdown):
  """`markdown` without its code blocks and code spans."""
  return CODE.sub('', FENCE.sub('', markdown))


def links(markdown):
  return [next(g for g in m.groups() if g) for m in LINK.finditer(
      prose(markdown))]


def anchors(markdown):
  """The anchors of the headings of `markdown`, as GitHub makes them:
  lower case, punctuation dropped, spaces as '-', repeats numbered."""
  found = set()
  counts = {}
  for heading in HEADING.findall(FENCE.sub('', markdown)):
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # link text
    slug = re.sub(r'[^\w\- ]', '', text.lower()).replace(' ', '-')
    n = counts.get(slug, 0)
    counts[slug] = n + 1
    found.add(slug if n == 0 else f'{slug}-{n}')
  return found


def relative(target):
  return not urllib.parse.urlsplit(target).scheme and not target.startswith(
      '//')


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
  broken = []
  for target in filter(relative, links(page.read_text())):
    path, _, anchor = urllib.parse.unquote(target).partition('#')
    # Normalized, not resolved: under Bazel the pages are links into the
    # source tree, which its sandbox may not show.
    file = Path(os.path.normpath(page.parent / path)) if path else page
    if not file.exists() or not file.is_relative_to(ROOT):
      broken.append(f'{target}: no file {file}')
    elif anchor and file.suffix == '.md' and anchor not in anchors(
        file.read_text()):
      broken.append(f'{target}: no heading of {file.name} has the anchor '
                    f'#{anchor}')
  assert not broken, f'{page.relative_to(ROOT)}: ' + '; '.join(broken)


@pytest.mark.parametrize('markdown, expected', [
    ('[a](docs/x.md) ![b](y.png "t") <img src="z.png">\n[r]: ../w.md\n'
     '`[c](not.md)`\n```sh\n[d](nor.md)\n```\n', ['docs/x.md', 'y.png',
                                                   'z.png', '../w.md']),
    ('[![i](img.png)](page.md#part)', ['img.png', 'page.md#part']),
])
def test_links_are_found_outside_code(markdown, expected):
  assert sorted(links(markdown)) == sorted(expected)


def test_anchors_are_githubs():
  assert anchors('# Quick start\n## `bin/train`: flags, 1.2\n'
                 '```sh\n# not a heading\n```\n## Quick start\n') == {
                     'quick-start', 'bintrain-flags-12', 'quick-start-1'}
