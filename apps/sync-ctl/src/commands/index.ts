import type { Command } from '../command';
import { idsCommand } from './ids.command';
import { mapCommand } from './map.command';
import { schemaCommand } from './schema.command';

/** Every sync-ctl command; add new ones here. */
export const COMMANDS: readonly Command[] = [schemaCommand, mapCommand, idsCommand];
