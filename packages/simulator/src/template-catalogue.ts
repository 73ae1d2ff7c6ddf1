/**
 * The benign message texts senders choose their templates from, per language and purpose. Many
 * accounts share near-identical OTP wording (as real verification products do), so "the same
 * template from many accounts" is normal for OTPs and only suspicious for unusual content.
 */
import type { Language } from './countries.ts';
import type { MessagePurpose } from './message-template.ts';

export type TemplateCatalogue = Readonly<Record<MessagePurpose, readonly string[]>>;

const english: TemplateCatalogue = {
  otp: [
    "Your {brand} verification code is {code}. Don't share it with anyone.",
    '{code} is your {brand} code. It expires in {minutes} minutes.',
    '{brand}: your login code is {code}. If you didn’t request it, ignore this message.',
    'Use {code} to reset your {brand} password. We will never ask you for this code.',
    'Your {brand} code is {code}\n\n@{domain} #{code}',
    '{brand} security code: {code}. Valid for {minutes} min.',
    'Your verification code is: {code}',
    '[{brand}] {code} is your one-time passcode.',
  ],
  transactional: [
    '{brand}: your order {order} has shipped! Track it here: {link}',
    '{brand}: your package is out for delivery today. Details: {link}',
    'Hi {name}, your {brand} order {order} is ready for pickup.',
    '{brand} alert: a payment of {amount} was made with your card ending {last4}. Not you? Call {phone}.',
    '{brand}: your driver {name} is arriving in {minutes} min.',
    "New sign-in to your {brand} account. If this wasn't you, secure your account at {link}",
    'Your {brand} bill of {amount} is due on {date}. View and pay: {link}',
    '{brand}: we received your payment of {amount}. Thank you!',
    '{brand}: your refund of {amount} for order {order} has been processed.',
  ],
  reminder: [
    'Reminder: {name}, your appointment at {brand} is on {date} at {time}. Reply C to confirm or R to reschedule.',
    '{brand}: see you {date} at {time}! Reply YES to confirm, NO to cancel.',
    'Hi {name}, this is {brand} reminding you of your booking on {date} at {time}. Questions? Call {phone}',
  ],
  marketing: [
    '{brand}: {percent}% off everything this weekend only! Shop now: {link} Reply STOP to opt out',
    'Hi {name}! Your {amount} reward is waiting at {brand}. Redeem by {date}: {link} STOP to end',
    '{brand} flash sale: up to {percent}% off new arrivals. {link} Txt STOP to unsubscribe',
    'New at {brand}: free delivery on orders over {amount}. {link} Reply STOP to opt out',
    '{brand}: we miss you, {name}! Come back for {percent}% off: {link} STOP=stop',
    '{brand} weekly deals are here! {percent}% off picks for you: {link} Reply STOP to opt out',
    'Only at {brand}: buy one get one {percent}% off until {date}. {link} Reply STOP to unsubscribe',
  ],
};

const spanish: TemplateCatalogue = {
  otp: [
    'Tu código de verificación de {brand} es {code}. No lo compartas con nadie.',
    '{code} es tu código de {brand}. Caduca en {minutes} minutos.',
    '{brand}: usa {code} para iniciar sesión.',
  ],
  transactional: [
    '{brand}: tu pedido {order} ha sido enviado. Síguelo aquí: {link}',
    '{brand}: hemos recibido tu pago de {amount}. ¡Gracias!',
    '{brand}: tu pedido {order} llega hoy. Detalles: {link}',
  ],
  reminder: [
    'Hola {name}, te recordamos tu cita en {brand} el {date} a las {time}. Responde SI para confirmar.',
  ],
  marketing: [
    '{brand}: ¡{percent}% de descuento solo este fin de semana! Compra en {link} Responde BAJA para no recibir más',
    '{brand}: envío gratis en pedidos desde {amount}. {link} BAJA para darte de baja',
    '{brand}: ofertas de la semana con hasta {percent}% de descuento: {link} Baja: responde BAJA',
  ],
};

const portuguese: TemplateCatalogue = {
  otp: [
    'Seu código {brand} é {code}. Não compartilhe com ninguém.',
    '{brand}: use o código {code} para entrar. Válido por {minutes} minutos.',
    '{code} é o seu código de verificação {brand}.',
  ],
  transactional: [
    '{brand}: seu pedido {order} foi enviado. Acompanhe: {link}',
    '{brand}: pagamento de {amount} confirmado. Obrigado!',
    '{brand}: seu pedido {order} saiu para entrega. {link}',
  ],
  reminder: [
    'Olá {name}, lembrete da sua consulta na {brand} em {date} às {time}. Responda SIM para confirmar.',
  ],
  marketing: [
    '{brand}: {percent}% OFF só hoje! Aproveite: {link} Responda SAIR para não receber mais',
    '{brand}: frete grátis acima de {amount}. {link} SAIR p/ cancelar',
    '{brand}: ofertas da semana com até {percent}% OFF: {link} Responda SAIR para cancelar',
  ],
};

const french: TemplateCatalogue = {
  otp: [
    'Votre code {brand} est {code}. Ne le communiquez à personne.',
    '{code} est votre code de vérification {brand}. Il expire dans {minutes} minutes.',
    '{brand} : votre code de connexion est {code}.',
  ],
  transactional: [
    '{brand} : votre commande {order} a été expédiée. Suivi : {link}',
    '{brand} : nous avons bien reçu votre paiement de {amount}. Merci !',
    '{brand} : votre colis {order} sera livré aujourd’hui. {link}',
  ],
  reminder: [
    'Bonjour {name}, rappel de votre rendez-vous chez {brand} le {date} à {time}. Répondez OUI pour confirmer.',
  ],
  marketing: [
    '{brand} : -{percent}% sur tout le site ce week-end ! {link} STOP au 36111',
    '{brand} : livraison offerte dès {amount} d’achat. {link} Stop SMS : répondez STOP',
    '{brand} : les bons plans de la semaine jusqu’à -{percent}% : {link} STOP au 36111',
  ],
};

const german: TemplateCatalogue = {
  otp: [
    'Ihr {brand} Bestätigungscode lautet {code}. Geben Sie ihn nicht weiter.',
    '{code} ist dein {brand} Code. Gültig für {minutes} Minuten.',
    '{brand}: Ihr Anmeldecode ist {code}.',
  ],
  transactional: [
    '{brand}: Ihre Bestellung {order} wurde versandt. Sendungsverfolgung: {link}',
    '{brand}: Zahlung über {amount} erhalten. Vielen Dank!',
    '{brand}: Ihr Paket {order} wird heute zugestellt. {link}',
  ],
  reminder: [
    'Hallo {name}, Erinnerung an Ihren Termin bei {brand} am {date} um {time} Uhr. Antworten Sie JA zur Bestätigung.',
  ],
  marketing: [
    '{brand}: {percent}% Rabatt auf alles nur dieses Wochenende! {link} Abmelden: STOP',
    '{brand}: Gratis Versand ab {amount}. Jetzt shoppen: {link} STOP zum Abmelden',
    '{brand}: Die Angebote der Woche mit bis zu {percent}% Rabatt: {link} Abmelden mit STOP',
  ],
};

export const templateCatalogue: Readonly<Record<Language, TemplateCatalogue>> = {
  en: english,
  es: spanish,
  pt: portuguese,
  fr: french,
  de: german,
};
