/**
 * How a personal field reads once its person is erased: `text` as `[erased]` (one token, so a
 * name split still works), `email` as `erased@erased.invalid` (a valid address that no mail
 * server accepts).
 */
export type PersonalFieldKind = 'text' | 'email';

/**
 * The classification of every property of one schema version of an event: a personal field
 * (`'text'` or `'email'`, encrypted at append with the person's key) or `false` (not
 * personal, stored as it is). With personal data enabled, the registry refuses a shape with a
 * property missing here, so a new field cannot be forgotten silently.
 */
export type PersonalDataDeclaration = Readonly<Record<string, PersonalFieldKind | false>>;

/** The personal fields of one schema version: field name -> kind. */
export type PersonalFields = Readonly<Record<string, PersonalFieldKind>>;

/** What an erased person's personal fields read as, per kind. */
export const ERASED_MARKERS: Readonly<Record<PersonalFieldKind, string>> = {
  text: '[erased]',
  email: 'erased@erased.invalid',
};

/** Only the personal entries of a declaration. */
export function personalFieldsOf(declaration: PersonalDataDeclaration | undefined): PersonalFields {
  const fields: Record<string, PersonalFieldKind> = {};
  for (const [name, kind] of Object.entries(declaration ?? {})) if (kind) fields[name] = kind;
  return fields;
}
