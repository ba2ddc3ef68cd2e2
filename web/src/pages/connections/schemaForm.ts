/** The schema-driven form the connection drawer uses: forms/SchemaForm once it exists,
 * until then the local stand-in with the same props. */
export { default } from "./SchemaFormFallback";
export type { SchemaFormProps } from "./SchemaFormFallback";
