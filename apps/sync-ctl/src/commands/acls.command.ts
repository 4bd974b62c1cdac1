import { ACL_ROLES, kafkaAcls, type AclRole, type KafkaAclEntry } from '@sync/contracts';
import { EXIT, UsageError, type Command } from '../command';
import { withKafka } from './kafka-session';
import { loadPipeline, maxPositionals, parseOptions } from './pipeline-args';

const HELP = `Usage: sync-ctl acls [--pipeline FILE] [--principal ROLE=NAME]... [--operator-replay] [--apply] [--json]

Prints the Kafka ACLs each principal of the suite needs (docs/security.md), derived from the topic
names and the consumer-group prefixes of the pipeline file: legacy-import writes only legacy.*,
only domain-transform writes writeback.*, legacy-writeback reads only resolved.* (its commands),
each app joins only its own consumer groups. Every line is one ALLOW binding:
  <principal> <topic|group> <literal|prefixed> <name> <operation>   # why

Options:
  --pipeline FILE         pipeline file (default: $PIPELINE_FILE or ./pipeline.yaml)
  --principal ROLE=NAME   the principal of a role when it is not the role's name (SCRAM user name,
                          or the CN of the client certificate); roles: ${ACL_ROLES.join(', ')}
  --operator-replay       also let sync-ctl write the data topics (dlq replay, verify --repair);
                          without it those need a super user
  --apply                 create the ACLs on the broker with the pipeline's Kafka credentials
                          (a super user's: e.g. KAFKA_USERNAME=admin); creating an existing one changes nothing
  --json                  print the bindings as a JSON array

Examples:
  sync-ctl acls > deploy/k8s/overlays/prod/kafka-acls.txt
  KAFKA_USERNAME=admin KAFKA_PASSWORD_FILE=/run/admin sync-ctl acls --apply`;

const OPTIONS = {
  pipeline: { type: 'string' },
  principal: { type: 'string', multiple: true },
  'operator-replay': { type: 'boolean' },
  apply: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `ROLE=NAME` options → principals per role; a bad one is a UsageError naming it. */
function parsePrincipals(values: readonly string[]): Partial<Record<AclRole, string>> {
  const out: Partial<Record<AclRole, string>> = {};
  for (const value of values) {
    const m = /^([a-z-]+)=([A-Za-z0-9._@=,+-]+)$/.exec(value);
    const role = ACL_ROLES.find((r) => r === m?.[1]);
    if (!m || !role) throw new UsageError(`--principal ${JSON.stringify(value)}: use ROLE=NAME with ROLE one of ${ACL_ROLES.join(', ')}`);
    out[role] = m[2]!;
  }
  return out;
}

/** One line per binding: what the prod overlay ships as kafka-acls.txt. */
export function formatAcls(entries: readonly KafkaAclEntry[]): string {
  const rows = entries.map((e) => [e.principal, e.resourceType, e.patternType, e.resourceName, e.operation, `# ${e.why}`]);
  const widths = rows[0]!.slice(0, 5).map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n')}\n`;
}

export const aclsCommand: Command = {
  path: ['acls'],
  summary: 'print or apply the Kafka ACLs of every app principal',
  help: HELP,
  options: OPTIONS,
  complete: { files: ['pipeline'] },
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    maxPositionals(positionals, 0, 'acls takes no arguments');
    const pipeline = loadPipeline(values.pipeline, io.pipelineFile);
    const entries = kafkaAcls({
      idTranslationGroupPrefix: pipeline.idTranslation.groupPrefix,
      domainTransformGroupPrefix: pipeline.domainTransform.groupPrefix,
      principals: parsePrincipals(values.principal ?? []),
      operatorReplay: values['operator-replay'] === true,
    });
    if (values.apply) {
      const created = await withKafka(pipeline, io, ({ connection }) => connection.aclAdmin().apply(entries));
      io.err(`created ${created} ACL bindings`);
    }
    io.out(values.json ? JSON.stringify(entries) : formatAcls(entries));
    return EXIT.ok;
  },
};
