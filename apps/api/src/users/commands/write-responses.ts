import type { CommandResponse } from '../../idempotency/command-response';
import { writeResultOf, type WriteResult } from './write-result';

/** POST /users: 201, `Location` of the new user, `ETag` = its stream version. */
export const registeredResponse: CommandResponse<WriteResult> = {
  result: writeResultOf,
  respond: (r) => ({
    status: 201,
    headers: { Location: `/users/${r.id}`, ETag: `"${r.version}"` },
    body: { id: r.id, version: r.version, position: r.position },
  }),
};

/** A change to an existing user: the route's status, `ETag` = the stream version after it. */
export const changedResponse = (status: 200 | 201): CommandResponse<WriteResult> => ({
  result: writeResultOf,
  respond: (r) => ({
    status,
    headers: { ETag: `"${r.version}"` },
    body: { id: r.id, version: r.version, position: r.position },
  }),
});
