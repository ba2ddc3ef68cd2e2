// Placeholder until this page is built (issue 7); replaced by its owner.
export default function JobDetailPage() {
  return null;
}
