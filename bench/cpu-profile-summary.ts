/**
 * Textual flame summary of a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `CPU_PROF=<dir> npm
 * run bench:http`): the top frames by self time and the self time per package, as Markdown
 * tables, idle time left out so shares are of the CPU the process actually used. Start-up
 * (module loading) is left out too: samples count from the first one inside an HTTP request.
 *   node -r @swc-node/register bench/cpu-profile-summary.ts <file.cpuprofile> [TOP=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, this repository's libs, Node's internals, or V8's pseudo-frames. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = url.slice(inModules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const lib = /libs\/([^/]+)\/src\/(.*)$/.exec(url);
  if (lib) return `@app/${lib[1]}`;
  return url.replace(/^.*\/(bench|apps)\//, '$1/');
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/(libs|bench|apps)\//, '$1/');
}

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? process.env.TOP ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inRequest = (id: number | undefined): boolean => {
    for (; id !== undefined; id = parent.get(id)) if (byId.get(id)!.callFrame.url === 'node:_http_server') return true;
    return false;
  };
  const first = profile.samples.findIndex((id) => inRequest(id));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (i >= first) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const frames = new Map<string, number>();
  const packages = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const frame = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    frames.set(frame, (frames.get(frame) ?? 0) + us);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const table = (title: string, rows: Map<string, number>, limit: number) => {
    console.log(`| ${title} | self ms | share |\n|---|---|---|`);
    for (const [name, us] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      console.log(`| \`${name.replace(/\|/g, '\\|')}\` | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)}% |`);
    }
    console.log('');
  };
  console.log(`Busy (non-idle) CPU in the profile: ${(busy / 1000).toFixed(0)} ms\n`);
  table('package', packages, 15);
  table('frame (self time)', frames, top);
}

main();
