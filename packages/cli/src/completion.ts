export function completion(_shell: string): string {
  return "";
}
