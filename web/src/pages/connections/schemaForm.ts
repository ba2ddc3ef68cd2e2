/** The schema-driven form the connection drawer and the preview's settings use
 * (forms/SchemaForm). */
export { default } from "../../forms/SchemaForm";
export type { SchemaFormProps } from "../../forms/SchemaForm";
