import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin } from 'kafkajs';
import type { KafkaClientPort } from './kafka-client.port';

/** One ALLOW ACL, in the suite's words (libs/contracts kafkaAcls builds them). */
export interface AclBinding {
  readonly principal: string;
  readonly resourceType: 'topic' | 'group';
  readonly patternType: 'literal' | 'prefixed';
  readonly resourceName: string;
  readonly operation: 'read' | 'write' | 'create' | 'describe' | 'describe-configs' | 'delete';
}

const RESOURCE = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP } as const;
const PATTERN = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const;
const OPERATION = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
  delete: AclOperationTypes.DELETE,
} as const;

/** Creates ACLs with the Admin API (the connection's principal must be allowed to: a super user). */
export class AclAdmin {
  private readonly admin: Admin;

  constructor(kafka: KafkaClientPort) {
    this.admin = kafka.admin();
  }

  /** Creates every binding (creating an existing one changes nothing). */
  async apply(bindings: readonly AclBinding[]): Promise<number> {
    await this.admin.connect();
    try {
      // Small batches: one CreateAcls request per 100 bindings.
      for (let i = 0; i < bindings.length; i += 100) {
        const acl = bindings.slice(i, i + 100).map((b) => ({
          resourceType: RESOURCE[b.resourceType],
          resourceName: b.resourceName,
          resourcePatternType: PATTERN[b.patternType],
          principal: b.principal,
          host: '*',
          operation: OPERATION[b.operation],
          permissionType: AclPermissionTypes.ALLOW,
        }));
        await this.admin.createAcls({ acl });
      }
      return bindings.length;
    } finally {
      await this.admin.disconnect();
    }
  }
}
