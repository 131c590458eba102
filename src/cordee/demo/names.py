"""Vocabulary the demo visitors are made of: names, streets, professions, interests.

Lists run from the most to the least common: the generator weights them by rank, so that
a few names are frequent and namesakes happen as they do in a real customer base.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    # Lists are kept as comma-separated text: a formatter would give each name its own line.
    # A name may be wrapped over two lines ("Le\n Guen"): whitespace runs become one space.
    return tuple(" ".join(word.split()) for word in text.split(",") if word.strip())


# French first names by generation: a Jean-Pierre is rarely under forty, a Maël rarely over.
FR_FEMALE_OLDER = _words(
    """
    Marie, Nathalie, Isabelle, Sylvie, Catherine, Françoise, Martine, Christine, Valérie, Sandrine,
    Véronique, Sophie, Patricia, Monique, Nicole, Brigitte, Chantal, Anne, Stéphanie, Céline,
    Hélène, Corinne, Dominique, Laurence, Florence, Évelyne, Jacqueline, Marie-Christine,
    Anne-Marie, Béatrice, Agnès, Pascale, Élisabeth, Claire, Karine, Virginie, Delphine, Caroline,
    Séverine, Géraldine, Annick, Josiane, Odile, Geneviève, Danielle, Muriel, Marie-Claire,
    Christiane, Joëlle, Maryse
"""
)
FR_FEMALE_YOUNGER = _words(
    """
    Camille, Léa, Manon, Chloé, Emma, Julie, Laura, Sarah, Inès, Jade, Louise, Alice, Lina, Zoé,
    Juliette, Lola, Anaïs, Élodie, Léna, Clara, Lucie, Mathilde, Marine, Pauline, Océane, Mélanie,
    Margaux, Charlotte, Ambre, Rose, Anna, Mila, Romane, Agathe, Lou, Nina, Eva, Maëlys, Jeanne,
    Victoire, Capucine, Héloïse, Noémie, Marie-Lou, Élise, Lisa, Justine, Émilie, Amandine, Marion,
    Alix, Margot, Apolline, Aurélie
"""
)
FR_MALE_OLDER = _words(
    """
    Jean, Michel, Philippe, Alain, Patrick, Nicolas, Christophe, Pierre, Christian, Éric, Frédéric,
    Laurent, Stéphane, David, Pascal, Daniel, Jean-Pierre, Jean-Luc, Jean-Claude, Thierry, Olivier,
    Bernard, Dominique, Jacques, Gérard, Didier, Serge, André, François, Bruno, René, Claude, Marc,
    Hervé, Gilles, Denis, Yves, Jean-Marc, Jean-François, Joël, Guy, Roger, Vincent, Sébastien,
    Franck, Fabrice, Lionel, Jérôme, Hugues, Régis
"""
)
FR_MALE_YOUNGER = _words(
    """
    Lucas, Hugo, Thomas, Théo, Nathan, Louis, Gabriel, Léo, Raphaël, Jules, Arthur, Adam, Maël,
    Ethan, Paul, Tom, Noah, Sacha, Mathis, Timothée, Enzo, Baptiste, Clément, Maxime, Alexandre,
    Antoine, Julien, Romain, Guillaume, Quentin, Kévin, Florian, Benjamin, Valentin, Mathieu,
    Adrien, Alexis, Victor, Martin, Axel, Noé, Aurélien, Jérémy, Anthony, Yanis, Mohamed, Karim,
    Théodore, Côme, Gaspard, Loïc, Jean-Baptiste, Pierre-Louis, Matéo, Eliott
"""
)

FR_SURNAMES = _words(
    """
    Martin, Bernard, Thomas, Petit, Robert, Richard, Durand, Dubois, Moreau, Laurent, Simon,
    Michel, Lefèvre, Leroy, Roux, David, Bertrand, Morel, Fournier, Girard, Bonnet, Dupont,
    Lambert, Fontaine, Rousseau, Vincent, Muller, Lefebvre, Faure, André, Mercier, Blanc, Guérin,
    Boyer, Garnier, Chevalier, François, Legrand, Gauthier, Garcia, Perrin, Robin, Clément, Morin,
    Nicolas, Henry, Roussel, Mathieu, Gautier, Masson, Marchand, Duval, Denis, Dumont, Marie,
    Lemaire, Noël, Meyer, Dufour, Meunier, Brun, Blanchard, Giraud, Joly, Rivière, Lucas, Brunet,
    Gaillard, Barbier, Arnaud, Martinez, Gérard, Roche, Renard, Schmitt, Roy, Leroux, Colin, Vidal,
    Caron, Picard, Roger, Fabre, Aubert, Lemoine, Renaud, Dumas, Lacroix, Olivier, Philippe,
    Bourgeois, Pierre, Benoît, Rey, Leclerc, Payet, Rolland, Leclercq, Guillaume, Lecomte, Lopez,
    Jean, Dupuy, Guillot, Hubert, Berger, Carpentier, Sanchez, Dupuis, Moulin, Louis, Deschamps,
    Huet, Vasseur, Perez, Boucher, Fleury, Royer, Klein, Jacquet, Adam, Paris, Poirier, Marty,
    Aubry, Guyot, Carré, Charles, Renault, Charpentier, Ménard, Maillard, Baron, Bertin, Bailly,
    Hervé, Schneider, Fernandez, Le Gall, Collet, Léger, Bouvier, Julien, Prévost, Millet, Perrot,
    Daniel, Le Roux, Cousin, Germain, Breton, Besson, Langlois, Rémy, Le Goff, Pelletier, Lévêque,
    Perrier, Leblanc, Barré, Lebrun, Marchal, Weber, Mallet, Hamon, Boulanger, Jacob, Monnier,
    Michaud, Rodriguez, Guichard, Gillet, Étienne, Grondin, Poulain, Tessier, Chevallier, Collin,
    Chauvin, Da Silva, Bouchet, Gay, Lemaître, Bénard, Maréchal, Humbert, Reynaud, Antoine, Hoarau,
    Perret, Barthélemy, Cordier, Pichon, Lejeune, Gilbert, Lamy, Delaunay, Pasquier, Carlier,
    Laporte, Tanguy, Devaux, Lefort, Coulon, Chauvet, Delmas, Buisson, Da Costa, Besnard, Texier,
    Gros, Pons, Ferrand, Rousset, Chabert, Bourdon, Vallet, Jacques, Vial, Favre, Bouvet, Blanchet,
    Mathis, Tissot, Nguyen, Diallo, N'Diaye, Traoré, Haddad, Benali, Cohen, Lévy, Ferreira,
    Pereira, Dos Santos, Rodrigues, Fernandes, Mendes, Kowalski, Zimmermann, Hoffmann, Le Bihan, Le
    Guen, Le Corre, de La Fontaine, de Villiers, du Pont, D'Angelo, Ben Ahmed, Martin-Lavigne,
    Bernard-Rousseau, Leroy-Durand, Perrillat, Mugnier, Dunand, Pollet, Jacquier, Burnier, Baud,
    Mermillod, Bibollet, Excoffier, Chappaz, Duret, Rochat, Tochon, Bouchex, Cartier, Jourdan,
    Rossignol, Allard, Bonnefoy, Vuillermoz, Chatelain, Grosjean, Blondel, Lagarde, Courtois,
    Valette, Sauvage, Maury, Bousquet, Raynaud, Vaillant, Hamel, Charrier, Aubin, Gaudin, Pineau,
    Lebon
"""
)

# Foreign visitors: first names by language as (female, male), surnames by country.
FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "de": (
        _words(
            """
            Anna, Julia, Laura, Lena, Sarah, Katharina, Sabine, Petra, Claudia, Andrea, Stefanie,
            Monika, Ursula, Hannah, Jana
        """
        ),
        _words(
            """
            Thomas, Michael, Andreas, Stefan, Markus, Christian, Peter, Klaus, Jürgen, Wolfgang,
            Lukas, Jonas, Felix, Maximilian, Tobias
        """
        ),
    ),
    "nl": (
        _words(
            """
            Emma, Sophie, Julia, Anna, Lotte, Sanne, Femke, Anouk, Eva, Fleur, Lieke, Marieke,
            Inge, Saskia, Els
        """
        ),
        _words(
            """
            Daan, Sem, Lucas, Levi, Bram, Thijs, Jeroen, Pieter, Joost, Sander, Bas, Ruben, Jan,
            Willem, Maarten
        """
        ),
    ),
    "en": (
        _words(
            """
            Olivia, Amelia, Emily, Sophie, Jessica, Charlotte, Lucy, Grace, Hannah, Sarah, Emma,
            Jennifer, Elizabeth, Rebecca, Isla
        """
        ),
        _words(
            """
            Oliver, George, Harry, Jack, James, William, Thomas, Daniel, Matthew, Michael, David,
            John, Robert, Christopher, Andrew
        """
        ),
    ),
    "it": (
        _words(
            """
            Giulia, Francesca, Chiara, Sara, Martina, Alessia, Valentina, Elena, Federica, Silvia,
            Paola, Giorgia, Sofia, Aurora, Laura
        """
        ),
        _words(
            """
            Marco, Alessandro, Andrea, Luca, Matteo, Francesco, Lorenzo, Giuseppe, Davide, Simone,
            Stefano, Roberto, Paolo, Giovanni, Leonardo
        """
        ),
    ),
    "es": (
        _words(
            """
            María, Lucía, Carmen, Laura, Marta, Ana, Paula, Elena, Cristina, Sofía, Isabel, Nuria,
            Pilar, Alba, Sara
        """
        ),
        _words(
            """
            Antonio, José, Manuel, Francisco, David, Javier, Juan, Daniel, Carlos, Jesús,
            Alejandro, Miguel, Pablo, Sergio, Álvaro
        """
        ),
    ),
}

SURNAMES: dict[str, tuple[str, ...]] = {
    "FR": FR_SURNAMES,
    "BE": _words(
        """
        Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, De Smet,
        Dubois, Lambert, Dupont, Vermeulen, Martin, Van Damme, Simon, Lejeune, Leclercq, Hermans,
        Renard, Laurent
    """
    ),
    "CH": _words(
        """
        Müller, Meier, Schmid, Keller, Weber, Huber, Schneider, Meyer, Steiner, Fischer, Gerber,
        Brunner, Baumann, Frei, Moser, Favre, Rochat, Perret, Bonvin, Rey, Berset, Fournier,
        Bianchi
    """
    ),
    "DE": _words(
        """
        Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann,
        Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun,
        Krüger, Hartmann, Lange
    """
    ),
    "NL": _words(
        """
        de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer,
        de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer
    """
    ),
    "GB": _words(
        """
        Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson, Roberts,
        Walker, Wright, Robinson, Thompson, White, Hughes, Edwards, Green, Hall, Wood, Harris,
        Clarke, O'Brien
    """
    ),
    "IT": _words(
        """
        Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno,
        Gallo, Conti, De Luca, Costa, Giordano, Mancini, Rizzo, Lombardi, Moretti, Barbieri,
        Fontana, Santoro
    """
    ),
    "ES": _words(
        """
        García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, Martín,
        Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro,
        Torres
    """
    ),
    "US": _words(
        """
        Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Garcia, Rodriguez, Wilson, Anderson,
        Taylor, Moore, Jackson, Lee, Thompson, Harris, Clark, Lewis, Walker, Young, Allen, King,
        Scott
    """
    ),
}

# How each language writes a street; "{n}" is the house number.
STREETS: dict[str, tuple[str, ...]] = {
    "fr": (
        "{n} rue de la République",
        "{n} rue Victor Hugo",
        "{n} avenue Jean Jaurès",
        "{n} rue Pasteur",
        "{n} place de l'Église",
        "{n} chemin des Vignes",
        "{n} impasse des Lilas",
        "{n} allée des Tilleuls",
        "{n} boulevard Gambetta",
        "{n} route de Lyon",
        "{n} rue du Moulin",
        "{n} rue des Écoles",
        "{n} rue de la Gare",
        "{n} Grande Rue",
        "{n} avenue de la Libération",
        "{n} rue du Château",
        "{n} rue Jules Ferry",
        "{n} avenue du Général de Gaulle",
        "{n} rue des Jardins",
        "{n} chemin du Lavoir",
        "{n} rue Saint-Martin",
        "{n} boulevard Voltaire",
        "{n} rue de Verdun",
        "{n} rue des Acacias",
        "{n} quai des Bateliers",
        "{n} rue Émile Zola",
        "{n} avenue des Peupliers",
        "{n} rue de l'Abbaye",
        "{n} résidence Les Érables",
        "Lieu-dit {place}",
    ),
    "de": (
        "Hauptstraße {n}",
        "Bahnhofstraße {n}",
        "Goethestraße {n}",
        "Lindenweg {n}",
        "Schulstraße {n}",
        "Gartenstraße {n}",
        "Bergstraße {n}",
        "Kirchgasse {n}",
    ),
    "nl": (
        "Kerkstraat {n}",
        "Dorpsstraat {n}",
        "Stationsstraat {n}",
        "Molenweg {n}",
        "Schoolstraat {n}",
        "Nieuwstraat {n}",
        "Lindelaan {n}",
    ),
    "en": (
        "{n} High Street",
        "{n} Church Lane",
        "{n} Station Road",
        "{n} Victoria Road",
        "{n} Main Street",
        "{n} Oak Avenue",
        "{n} Park Road",
        "{n} Mill Lane",
    ),
    "it": (
        "Via Roma {n}",
        "Via Garibaldi {n}",
        "Via Mazzini {n}",
        "Corso Vittorio Emanuele {n}",
        "Via Dante {n}",
        "Via Verdi {n}",
    ),
    "es": (
        "Calle Mayor {n}",
        "Calle de Alcalá {n}",
        "Avenida de la Constitución {n}",
        "Calle Real {n}",
        "Plaza de España {n}",
        "Calle del Sol {n}",
    ),
}
PLACE_NAMES = ("les Granges", "le Crêt", "la Combe", "les Moulins", "le Chêne", "les Prés")

# (masculine, feminine) labels as a French partner's form would record them.
PROFESSIONS = (
    ("Employé", "Employée"),
    ("Cadre", "Cadre"),
    ("Profession intermédiaire", "Profession intermédiaire"),
    ("Enseignant", "Enseignante"),
    ("Ingénieur", "Ingénieure"),
    ("Ouvrier", "Ouvrière"),
    ("Artisan", "Artisane"),
    ("Commerçant", "Commerçante"),
    ("Chef d'entreprise", "Cheffe d'entreprise"),
    ("Profession libérale", "Profession libérale"),
    ("Médecin", "Médecin"),
    ("Infirmier", "Infirmière"),
    ("Fonctionnaire", "Fonctionnaire"),
    ("Agriculteur", "Agricultrice"),
    ("Sans emploi", "Sans emploi"),
)
RETIRED = ("Retraité", "Retraitée")
STUDENT = ("Étudiant", "Étudiante")
PUPIL = ("Élève", "Élève")

INTERESTS = (
    "ski",
    "snowboard",
    "raquettes",
    "ski_de_fond",
    "randonnee",
    "vtt",
    "voile",
    "paddle",
    "escalade",
    "parapente",
    "spa",
    "gastronomie",
    "patrimoine",
    "peche",
    "golf",
    "baignade",
)
# Which interests a visitor of each season tends to have, with relative weights.
SEASON_INTERESTS: dict[str, dict[str, float]] = {
    "winter": {
        "ski": 10,
        "snowboard": 4,
        "raquettes": 3,
        "ski_de_fond": 2,
        "spa": 3,
        "gastronomie": 3,
        "patrimoine": 1,
        "randonnee": 1,
    },
    "summer": {
        "randonnee": 8,
        "vtt": 4,
        "voile": 3,
        "paddle": 4,
        "escalade": 2,
        "parapente": 2,
        "peche": 1.5,
        "golf": 1,
        "baignade": 4,
        "gastronomie": 3,
        "patrimoine": 2,
        "spa": 1,
    },
}
