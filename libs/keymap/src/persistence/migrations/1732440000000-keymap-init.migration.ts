import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The key map's tables (see keymap.entities.ts). */
export class KeymapInit1732440000000 implements MigrationInterface {
  name = 'KeymapInit1732440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE keymap_entry (
        system     text        NOT NULL,
        table_ref  text        NOT NULL,
        local_key  text        NOT NULL,
        key_values jsonb       NOT NULL,
        global_id  text        NOT NULL,
        origin     text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT keymap_entry_pk PRIMARY KEY (system, table_ref, local_key),
        -- one legacy row per global id and table: two replicas cannot map one id to two rows
        CONSTRAINT keymap_entry_global_uq UNIQUE (global_id, system, table_ref)
      )`);
    await queryRunner.query(`
      CREATE TABLE keymap_pending_insert (
        system     text        NOT NULL,
        table_ref  text        NOT NULL,
        global_id  text        NOT NULL,
        command_id text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        linked_at  timestamptz NULL,
        CONSTRAINT keymap_pending_insert_pk PRIMARY KEY (system, table_ref, global_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE keymap_parked_command (
        id               bigserial   NOT NULL,
        command_id       text        NOT NULL,
        system           text        NOT NULL,
        table_ref        text        NOT NULL,
        global_id        text        NOT NULL,
        waiting_on       text[]      NOT NULL,
        reason           text        NOT NULL,
        source_topic     text        NOT NULL,
        source_partition integer     NOT NULL,
        source_offset    text        NOT NULL,
        message_key      text        NULL,
        message_value    text        NOT NULL,
        headers          jsonb       NOT NULL,
        parked_at        timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT keymap_parked_command_pk PRIMARY KEY (id),
        -- a replayed request that is still parked is not parked twice
        CONSTRAINT keymap_parked_command_uq UNIQUE (command_id)
      )`);
    await queryRunner.query(`CREATE INDEX keymap_parked_row_idx ON keymap_parked_command (system, table_ref, global_id, id)`);
    await queryRunner.query(`CREATE INDEX keymap_parked_waiting_idx ON keymap_parked_command USING gin (waiting_on)`);
    await queryRunner.query(`CREATE INDEX keymap_parked_at_idx ON keymap_parked_command (parked_at)`);
    await queryRunner.query(`
      CREATE TABLE keymap_key_sequence (
        system     text   NOT NULL,
        table_ref  text   NOT NULL,
        next_value bigint NOT NULL,
        CONSTRAINT keymap_key_sequence_pk PRIMARY KEY (system, table_ref)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE keymap_key_sequence');
    await queryRunner.query('DROP TABLE keymap_parked_command');
    await queryRunner.query('DROP TABLE keymap_pending_insert');
    await queryRunner.query('DROP TABLE keymap_entry');
  }
}
