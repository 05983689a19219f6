import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every relative link in the documentation points at a file that exists and,
 * with a `#fragment`, at a heading of that file (GitHub's anchor rules). The
 * manual is spread over README.md, CONTRIBUTING.md, docs/ and the library
 * READMEs, linking instead of repeating: a moved section must not leave a dead link.
 */
const ROOT = join(__dirname, '..');

function markdownFiles(): string[] {
  const inDocs = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return inDocs(path);
      return path.endsWith('.md') ? [path] : [];
    });
  const libReadmes = readdirSync(join(ROOT, 'libs')).map((lib) => join(ROOT, 'libs', lib, 'README.md'));
  return [join(ROOT, 'README.md'), join(ROOT, 'CONTRIBUTING.md'), ...inDocs(join(ROOT, 'docs')), ...libReadmes].filter((path) =>
    existsSync(path),
  );
}

/** Lines outside fenced code blocks, with inline code spans removed. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').flatMap((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [line.replace(/`[^`]*`/g, '')];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    for (const match of line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ file, target });
    }
  }
  return links;
}

function problemWith({ file, target }: Link): string | null {
  const [path, fragment] = target.split('#', 2);
  const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
  if (!existsSync(resolved)) return 'no such file';
  if (fragment === undefined) return null;
  if (!resolved.endsWith('.md')) return 'anchor into a file that is not markdown';
  return anchorsOf(readFileSync(resolved, 'utf8')).has(fragment) ? null : 'no such heading';
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the manual', () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/api.md', 'docs/architecture.md']));
  });

  it('resolves every relative link to an existing file and heading', () => {
    const links = files.flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(20);
    const broken = links
      .map((link) => ({ link, problem: problemWith(link) }))
      .filter(({ problem }) => problem !== null)
      .map(({ link, problem }) => `${relative(ROOT, link.file)}: ${link.target} (${problem})`);
    expect(broken).toEqual([]);
  });

  it('computes GitHub anchors the way GitHub does', () => {
    const anchors = anchorsOf('# Errors: RFC 9457 problem+json\n## XFetch and `beta`\n## Tests\n## Tests\n```\n# not a heading\n```');
    expect([...anchors]).toEqual(['errors-rfc-9457-problemjson', 'xfetch-and-beta', 'tests', 'tests-1']);
  });
});
