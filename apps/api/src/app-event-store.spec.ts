import { appEventStore, USER_EVENT_TYPES, userIdOf, userStreamId } from './app-event-store';

describe('the app event store declaration', () => {
  const registered = appEventStore.events.map((definition) => definition.type);

  it('registers every user event type under its constant name', () => {
    expect([...registered].sort()).toEqual([...USER_EVENT_TYPES].sort());
  });

  it('lets each projection handle only registered event types', () => {
    for (const projection of appEventStore.projections) {
      expect({ projection: projection.name, unregistered: projection.handles.filter((type) => !registered.includes(type)) }).toEqual({
        projection: projection.name,
        unregistered: [],
      });
    }
  });

  it('has projections with distinct names', () => {
    const names = appEventStore.projections.map((projection) => projection.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('user stream ids', () => {
  it('map a user id to its stream and back', () => {
    const id = '0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
    expect(userStreamId(id)).toBe(`user-${id}`);
    expect(userIdOf(userStreamId(id))).toBe(id);
  });

  it.each(['account-1', 'user-', 'users-1', ''])('refuse %j, which is not a user stream', (streamId) => {
    expect(() => userIdOf(streamId)).toThrow(`stream "${streamId}" is not a user stream`);
  });
});
