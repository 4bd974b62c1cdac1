import type { CustomMapper, DomainEventDraft, ForwardMapperInput } from '@sync/mapping';

/**
 * Example of the code escape hatch (`mapper: SplitNameMapper` in a mapping): splits a legacy
 * single-column full name into first and last name, which a JSONata one-liner handles poorly for
 * names with particles.
 */
export class SplitNameMapper implements CustomMapper {
  forward({ change }: ForwardMapperInput): DomainEventDraft[] {
    const row = change.op === 'd' ? change.before : change.after;
    const full = typeof row?.['name'] === 'string' ? row['name'].trim() : '';
    const parts = full.split(/\s+/);
    const particle = parts.findIndex((p, i) => i > 0 && /^(van|von|de|da|di|du|le|la)$/i.test(p));
    const cut = particle > 0 ? particle : Math.max(1, parts.length - 1);
    return [{ type: 'PersonNamed', data: { firstName: parts.slice(0, cut).join(' '), lastName: parts.slice(cut).join(' ') } }];
  }
}
