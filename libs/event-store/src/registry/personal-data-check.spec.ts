import { IsEmail, IsInt, IsString, Length } from 'class-validator';
import { EventRegistry } from './event-registry';
import { defineEvent, type EventDefinition } from './event-definition';

class Joined {
  @IsString() name: string;
  @IsEmail() email: string;
  @IsInt() age: number;
}
class JoinedV1 {
  @IsString() fullName: string;
}
class Coded {
  @IsString() @Length(10, 20) code: string;
}

const registry = (definition: EventDefinition, requirePersonalData = true) => new EventRegistry([definition], { requirePersonalData });

describe('personal data declarations in the registry', () => {
  it('registers a fully classified shape and answers its personal fields per version', () => {
    const r = registry(
      defineEvent({
        type: 'Joined',
        version: 2,
        eventClass: Joined,
        personalData: { name: 'text', email: 'email', age: false },
        history: [
          {
            version: 1,
            shape: JoinedV1,
            personalData: { fullName: 'text' },
            upcast: (d: JoinedV1) => ({ name: d.fullName, email: 'x@example.com', age: 1 }),
          },
        ],
      }),
    );
    expect(r.personalFields('Joined', 2)).toEqual({ name: 'text', email: 'email' });
    expect(r.personalFields('Joined', 1)).toEqual({ fullName: 'text' });
    expect(r.personalFields('Joined', 3)).toBeUndefined();
  });

  it('refuses a property left unclassified: a new field cannot be forgotten silently', () => {
    expect(() =>
      registry(defineEvent({ type: 'Joined', version: 1, eventClass: Joined, personalData: { name: 'text', email: 'email' } })),
    ).toThrow(/Joined v1: personalData does not classify age/);
  });

  it('refuses a declaration naming no property, and a missing declaration when personal data is on', () => {
    expect(() =>
      registry(
        defineEvent({
          type: 'Joined',
          version: 1,
          eventClass: Joined,
          personalData: { name: 'text', email: 'email', age: false, nick: 'text' },
        }),
      ),
    ).toThrow(/names nick, not properties of the shape/);
    expect(() => registry(defineEvent({ type: 'Joined', version: 1, eventClass: Joined }))).toThrow(/Joined v1: declare personalData/);
    expect(() => registry(defineEvent({ type: 'Joined', version: 1, eventClass: Joined }), false)).not.toThrow();
  });

  it('refuses a marker the shape rejects, at its own version or after an upcaster', () => {
    expect(() => registry(defineEvent({ type: 'Coded', version: 1, eventClass: Coded, personalData: { code: 'text' } }))).toThrow(
      /erased markers of v1 are invalid at v1: code: code must be longer than or equal to 10 characters/,
    );
    expect(() =>
      registry(
        defineEvent({
          type: 'Coded',
          version: 2,
          eventClass: Coded,
          personalData: { code: false },
          history: [{ version: 1, shape: JoinedV1, personalData: { fullName: 'text' }, upcast: (d: JoinedV1) => ({ code: d.fullName }) }],
        }),
      ),
    ).not.toThrow(); // v2's code is not personal, so only v2's personal fields are checked after the upcast
    expect(() =>
      registry(
        defineEvent({
          type: 'Joined',
          version: 2,
          eventClass: Joined,
          personalData: { name: 'text', email: 'email', age: false },
          history: [
            {
              version: 1,
              shape: JoinedV1,
              personalData: { fullName: 'text' },
              upcast: (d: JoinedV1) => ({ name: d.fullName, email: d.fullName }),
            },
          ],
        }),
      ),
    ).toThrow(/erased markers of v1 are invalid at v2: email: email must be an email/);
  });

  it('refuses an upcaster that throws on the markers', () => {
    const upcast = (d: JoinedV1) => {
      if (d.fullName.startsWith('[')) throw new Error('no brackets');
      return { name: d.fullName, email: 'a@b.c', age: 1 };
    };
    expect(() =>
      registry(
        defineEvent({
          type: 'Joined',
          version: 2,
          eventClass: Joined,
          personalData: { name: 'text', email: 'email', age: false },
          history: [{ version: 1, shape: JoinedV1, personalData: { fullName: 'text' }, upcast }],
        }),
      ),
    ).toThrow(/upcaster v1->v2 throws on the erased markers of v1: Error: no brackets/);
  });
});
