// MQTT 5 reason codes (MQTT 5.0 §2.4) and their MQTT 3.1.1 equivalents where 3.1.1 has one.

export const Reason = {
  Success: 0x00,
  GrantedQos1: 0x01,
  NormalDisconnect: 0x00,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  ServerShuttingDown: 0x8b,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierNotFound: 0x92,
  PacketTooLarge: 0x95,
  QuotaExceeded: 0x97,
  PayloadFormatInvalid: 0x99,
  SharedSubscriptionsNotSupported: 0x9e,
} as const;

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnackV4 = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/** MQTT 3.1.1 SUBACK failure (§3.9.3). */
export const SUBACK_FAILURE_V4 = 0x80;

/** A 5.0 CONNACK reason → the nearest 3.1.1 return code. */
export function connackV4(reason: number): number {
  switch (reason) {
    case Reason.Success:
      return ConnackV4.Accepted;
    case Reason.UnsupportedProtocolVersion:
      return ConnackV4.UnacceptableProtocolVersion;
    case Reason.ClientIdentifierNotValid:
      return ConnackV4.IdentifierRejected;
    case Reason.BadUserNameOrPassword:
      return ConnackV4.BadUserNameOrPassword;
    case Reason.NotAuthorized:
      return ConnackV4.NotAuthorized;
    default:
      return ConnackV4.ServerUnavailable;
  }
}
