/**
 * Dawn's Node binding opens Vulkan on Linux. When the Vulkan loader finds no driver, Dawn prints its own warnings
 * (with C++ source lines) to the process's stderr, and it has no flag to silence them. So before starting Dawn we
 * look where the loader looks, and when there is certainly no driver the backend says so itself.
 */
type Env = Record<string, string | undefined>;
type Fs = { existsSync(p: string): boolean; readdirSync(p: string): string[] };

function hasDriverFile(fs: Fs, dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => f.endsWith('.json'));
  } catch {
    return false;
  }
}

/** The directories the Vulkan loader searches for driver manifests (`<dir>/vulkan/icd.d`) on Linux. */
function searchDirs(env: Env): string[] {
  const list = (value: string | undefined, fallback: string) => (value || fallback).split(':').filter((d) => d.length > 0);
  const home = env.XDG_DATA_HOME || (env.HOME ? `${env.HOME}/.local/share` : '');
  const roots = [...list(env.XDG_CONFIG_DIRS, '/etc/xdg'), '/usr/local/etc', '/etc', ...list(env.XDG_DATA_DIRS, '/usr/local/share:/usr/share'), home];
  return roots.filter((r) => r.length > 0).map((r) => `${r}/vulkan/icd.d`);
}

/**
 * A sentence when Dawn would certainly find no Vulkan driver here, else null (also whenever Dawn would not use
 * Vulkan or the answer is not certain: another platform, a `backend=` flag, VK_ADD_DRIVER_FILES).
 */
export function missingVulkanDriver(fs: Fs, env: Env, platform: string, dawnFlags: readonly string[]): string | null {
  if (platform !== 'linux' || env.DAWNNODE_BACKEND || env.VK_ADD_DRIVER_FILES) return null;
  if (dawnFlags.some((f) => f.startsWith('backend='))) return null;
  const named = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : null;
  if (named) {
    const files = env[named]!.split(':').filter((f) => f.length > 0);
    return files.some((f) => fs.existsSync(f)) ? null : `${named}=${env[named]} names no file that exists`;
  }
  return searchDirs(env).some((d) => hasDriverFile(fs, d))
    ? null
    : 'no Vulkan driver is installed (no driver manifest in /usr/share/vulkan/icd.d or the other Vulkan loader paths)';
}
