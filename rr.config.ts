// The project's own default plugin list (none yet: record and replay are core).
import { defineConfig } from 'tsrr';

export default defineConfig({ plugins: [] });
