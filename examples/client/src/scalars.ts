// The wire types of Inkgraph's custom scalars that TypeScript has no word for
// (codegen.ts maps Time and Int64 to string and number directly).

/** The JSON scalar: any JSON value, as the server sends it. */
export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };
