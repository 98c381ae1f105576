// docs/cli.md, generated from the verb table so the two cannot drift (checked by a test;
// rewrite it with `npm run docs`).
import { globalOptions, verbs } from './verbs.js';
import type { OptionSpec } from './verb.js';

function optionRows(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(
      ([name, spec]) =>
        `| ${spec.short ? `\`-${spec.short}\`, ` : ''}\`--${name}\`${spec.type === 'string' ? ' VALUE' : ''} | ${spec.description} |`,
    )
    .join('\n');
}

export function cliReference(): string {
  const sections = verbs
    .filter((verb) => !verb.hidden)
    .map((verb) => {
      const own = Object.keys(verb.options).length > 0 ? `\n| option | meaning |\n| --- | --- |\n${optionRows(verb.options)}\n` : '';
      return `## tend ${verb.name}${verb.args ? ` ${verb.args}` : ''}\n\n${verb.summary}\n\n${verb.details}\n${own}`;
    });
  return `# tend CLI reference

Generated from \`src/cli/verbs.ts\` by \`npm run docs\`; a test fails when this file and the table differ.

Usage: \`tend [-f FILE] COMMAND [options]\`. Exit codes: 0 ok, 1 failure, 2 bad usage or invalid
config, 3 nothing running. Every error is one sentence (and a hint); \`--debug\` adds stack traces.
\`tend help [COMMAND]\` prints what \`--help\` does. A mistyped command, service or signal gets the
nearest one as a hint: \`tend restart wrker\` says \`hint: did you mean "worker"?\`.

## Global options

| option | meaning |
| --- | --- |
${optionRows(globalOptions)}

${sections.join('\n')}`;
}
