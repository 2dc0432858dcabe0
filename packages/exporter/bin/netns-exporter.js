#!/usr/bin/env node
// The netns-exporter command: the compiled CLI (src/cli.ts). A file of its own, kept in the
// repository, so that npm links the command in a fresh checkout before dist/ is built.
import '../dist/cli.js';
