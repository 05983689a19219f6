/**
 * Operator tooling over a store (`@app/event-store/tools`): verify the log, export it as JSON
 * lines, bulk-import such lines, and move the personal-data keys with an export. Kept out of the
 * root entry: an application's request path never needs them; its admin endpoints and CLIs do.
 */
export { verifyStore } from './verify-store';
export type { VerifyFailure, VerifyOptions, VerifyProgress, VerifyReport } from './verify-store';
export { exportLines, importLines, parseExportLine } from './export-import';
export type {
  ExportedEvent,
  ImportChunkHook,
  ImportInput,
  ImportOptions,
  ImportProgress,
  ImportReport,
  MovedOnStream,
} from './export-import';
export { ImportLineError } from '../errors';
export { exportPersonalDataKeys, importPersonalDataKeys, sealPlaintextLines } from '../personal-data/key-transfer';
export type { PersonalDataKeysReport } from '../personal-data/key-transfer';
