/** kubectl_complete-wand: placeholder until completion lands (prints no candidates). */
export async function runCompletion(_args: string[]): Promise<number> {
  process.stdout.write(':4\n');
  return 0;
}
