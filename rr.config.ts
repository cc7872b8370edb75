// The project's own plugin list (the first-party gdbserver and pcp are on by default).
import { defineConfig } from 'tsrr';

export default defineConfig({ plugins: [] });
