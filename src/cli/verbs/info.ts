// `tend info`: where everything is and what runs — the config file, the runtime directory and
// what is in it (socket, API token, engine.log, state), the API's addresses (the TCP port chosen
// for `:0` included), the log directory, containment, and the versions in play. It works with no
// engine running too: then it says so, and what the paths would be.
import fs from 'node:fs';
import type { EngineInfo } from '../../api/protocol.js';
import { protocolVersion } from '../../api/protocol.js';
import { isTendError } from '../../errors.js';
import { KEEPER_PROTOCOL } from '../../host/keeper-protocol.js';
import { connect } from '../connect.js';
import { describeContainment } from '../render/ps.js';
import { renderTable } from '../render/table.js';
import type { Verb } from '../verb.js';
import { version } from '../version.js';

const exists = (file: string): boolean => fs.existsSync(file);

export const infoVerb: Verb = {
  name: 'info',
  summary: 'Where everything is: config file, runtime dir, socket, API addresses and token, engine.log, logs; versions and containment.',
  args: '',
  options: { json: { type: 'boolean', description: 'Print JSON for scripts instead of lines.' } },
  details: 'Works with no engine running: the paths are those the project uses, and the engine is reported as not running (exit 3).',
  async run(input) {
    const { client, file, paths } = await connect(input);
    let engine: EngineInfo | null = null;
    try {
      engine = (await client.status()).engine;
    } catch (error) {
      if (!isTendError(error) || error.code !== 'TEND_NO_ENGINE') throw error;
    }
    const facts = {
      configFile: engine?.configFile ?? file,
      engine,
      runtimeDir: paths.dir,
      socket: paths.socket,
      token: exists(paths.token) ? paths.token : null,
      engineLog: paths.engineLog,
      state: paths.state,
      versions: { cli: version(), apiProtocol: protocolVersion, keeperProtocol: KEEPER_PROTOCOL, node: process.version },
    };
    if (input.values.json) {
      input.io.stdout.write(`${JSON.stringify(facts)}\n`);
      return engine === null ? 3 : 0;
    }
    const rows: string[][] = [['config file', facts.configFile]];
    if (engine === null) rows.push(['engine', 'not running (start it with `tend up -d`)']);
    else {
      rows.push([
        'engine',
        `pid ${engine.pid} (tend ${engine.version}${engine.node ? `, node ${engine.node}` : ''}), since ${engine.startedAt}`,
      ]);
      rows.push(['keeper', engine.keeperPid === null ? 'none (a foreground `tend up`)' : `pid ${engine.keeperPid}`]);
      rows.push(['containment', describeContainment(engine.containment, engine.cgroupRoot).replace(/^containment: /, '')]);
      rows.push(['logs', `${engine.logDir} (events in events.jsonl)`]);
    }
    rows.push(['API', `unix socket ${facts.socket}${engine === null ? '' : ' (mode 0600)'}`]);
    if (engine?.tcp)
      rows.push(['', `tcp http://${engine.tcp.host}:${engine.tcp.port}/v1/ (bearer token in ${facts.token ?? '$TEND_API_TOKEN'})`]);
    rows.push(['runtime dir', facts.runtimeDir]);
    rows.push(['engine log', `${facts.engineLog}${exists(facts.engineLog) ? '' : ' (not written yet)'}`]);
    rows.push(['state', `${facts.state}${exists(facts.state) ? '' : ' (none: nothing runs)'}`]);
    rows.push([
      'versions',
      `tend ${facts.versions.cli} (this command), API protocol ${protocolVersion}, keeper protocol ${KEEPER_PROTOCOL}, node ${process.version}`,
    ]);
    input.io.stdout.write(renderTable(['', ''], rows).split('\n').slice(1).join('\n'));
    return engine === null ? 3 : 0;
  },
};
