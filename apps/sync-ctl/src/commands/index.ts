import type { Command } from '../command';
import { disableCommand, enableCommand, historyCommand, pauseCommand, resnapshotCommand, resumeCommand, statusCommand } from './control.command';
import { dlqListCommand, dlqPurgeCommand, dlqReplayCommand, dlqShowCommand } from './dlq.command';
import { idsCommand } from './ids.command';
import { mapCommand } from './map.command';
import { schemaCommand } from './schema.command';
import { validateCommand } from './validate.command';
import { verifyCommand } from './verify.command';

/** Every sync-ctl command; add new ones here. */
export const COMMANDS: readonly Command[] = [
  statusCommand,
  pauseCommand,
  resumeCommand,
  enableCommand,
  disableCommand,
  resnapshotCommand,
  historyCommand,
  schemaCommand,
  mapCommand,
  idsCommand,
  verifyCommand,
  validateCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqReplayCommand,
  dlqPurgeCommand,
];
