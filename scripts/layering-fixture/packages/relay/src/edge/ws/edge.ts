export function startEdge(): string {
  return 'edge';
}
