// Placeholder until this page is built (issue 7); replaced by its owner.
export default function JobWizardPage() {
  return null;
}
