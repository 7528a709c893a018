// Rewrites a settings file as fast as it can, forever, so a test can kill it mid-write.
import { SettingsStore } from '../settings-store.ts';
import { NO_SECRET_BOX } from '../secrets.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: settings-writer.ts <settings.json>');
const store = await SettingsStore.open(file, NO_SECRET_BOX, {});
for (let i = 0; ; i++) {
  // Alternate long and short contents so a torn write would leave a visibly broken file.
  await store.update({ trajectoriesDir: `/runs/${i}/`.padEnd(i % 2 ? 4000 : 10, 'x'), maxSteps: (i % 400) + 1 });
  if (i % 20 === 0) process.stdout.write(`${i}\n`);
}
