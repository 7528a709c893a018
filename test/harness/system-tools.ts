import { spawnSync } from 'node:child_process';

/** The Debian packages that provide each system tool the test suites use. */
export const DEBIAN_PACKAGES: Record<string, string | readonly string[]> = {
  Xvfb: 'xvfb',
  xterm: 'xterm',
  import: 'imagemagick',
  xrandr: 'x11-xserver-utils',
  xmodmap: 'x11-xserver-utils',
  xwininfo: 'x11-utils',
  xprop: 'x11-utils',
  openbox: 'openbox',
  xev: 'x11-utils',
  // A small GTK client with a text entry, for typing into a real GTK widget.
  zenity: 'zenity',
  // Mono's C# compiler and System.Drawing: compiles the Windows helper's C# (Add-Type's C# 5).
  mcs: ['mono-mcs', 'libmono-system-drawing4.0-cil'],
  xdotool: 'xdotool',
  xsel: 'xsel',
  xclip: 'xclip',
  chromium: 'chromium',
  prlimit: 'util-linux',
};

/** Packages installed alongside the tools: fonts so xterm and Chromium render text. */
const COMPANION_PACKAGES = ['xfonts-base', 'fonts-dejavu-core', 'fonts-noto-cjk'];

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${tool}'`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure each tool is on PATH. Missing tools are installed with apt-get when running as
 * root (as CI does); otherwise this throws one line naming the packages to install.
 */
export function ensureSystemTools(tools: readonly string[]): void {
  const missing = tools.filter((tool) => !onPath(tool));
  if (missing.length === 0) return;
  const packagesOf = (tools: readonly string[]) => [...new Set(tools.flatMap((tool) => DEBIAN_PACKAGES[tool] ?? tool))];
  const packages = packagesOf(missing);
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages, ...COMPANION_PACKAGES], {
      stdio: 'ignore',
      env,
    });
  }
  const still = tools.filter((tool) => !onPath(tool));
  if (still.length > 0) {
    const names = packagesOf(still);
    throw new Error(
      `missing system tools: ${still.join(', ')}; install them with: sudo apt-get install ${names.join(' ')}`,
    );
  }
}
