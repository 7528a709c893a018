/**
 * Why `name` cannot be one folder name inside the results folder, or undefined when it can:
 * ASCII letters, digits, '_', '-' and '.', at most 200 of them, not "." or ".." (nor only dots),
 * and not a name Windows reserves for a device.
 */
export function folderNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > 200) return `is ${name.length} characters long (at most 200)`;
  if (!/^[\w.-]+$/.test(name)) return "may hold only letters, digits, '_', '-' and '.'";
  if (/^\.+$/.test(name)) return 'is only dots';
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(name)) return 'is a device name on Windows';
  return undefined;
}
